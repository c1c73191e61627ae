import { describe, expect, it } from 'vitest';
import type { PaymentRecord } from '../model/model.ts';
import { csvField, listPayments, putPayment, toCsv, toJson, updatePayment } from './ledger.ts';
import { memoryStorage } from './storage.ts';

const rec = (o: Partial<PaymentRecord>): PaymentRecord => ({
  paymentHash: '00'.repeat(32),
  origin: 'https://api.example.com',
  initiator: 'https://app.example.org',
  url: 'https://api.example.com/x',
  kind: 'l402',
  invoice: 'lnbcrt1',
  amountMsat: 21_000,
  maxFeeMsat: 10_000,
  feeMsat: 1_500,
  memo: null,
  status: 'succeeded',
  preimage: '11'.repeat(32),
  macaroon: 'AgE=',
  error: null,
  createdAt: Date.UTC(2026, 10, 25, 12),
  settledAt: Date.UTC(2026, 10, 25, 12, 0, 1),
  walletKind: 'nwc',
  ...o,
});

describe('ledger', () => {
  it('lists newest first with filters', async () => {
    const s = memoryStorage();
    await putPayment(s, rec({ paymentHash: 'a', createdAt: 1 }));
    await putPayment(s, rec({ paymentHash: 'b', createdAt: 3, origin: 'https://other.example' }));
    await putPayment(s, rec({ paymentHash: 'c', createdAt: 2, status: 'failed' }));
    expect((await listPayments(s)).map((r) => r.paymentHash)).toEqual(['b', 'c', 'a']);
    expect((await listPayments(s, { origin: 'https://api.example.com' })).map((r) => r.paymentHash)).toEqual([
      'c',
      'a',
    ]);
    expect((await listPayments(s, { from: 2, to: 3 })).map((r) => r.paymentHash)).toEqual(['c']);
    expect((await listPayments(s, { status: ['failed'] })).map((r) => r.paymentHash)).toEqual(['c']);
    expect((await listPayments(s, { limit: 1 })).map((r) => r.paymentHash)).toEqual(['b']);
    expect(await updatePayment(s, 'zz', { status: 'failed' })).toBeUndefined();
  });

  it('updates under the budget lock, and never turns a succeeded record into anything else', async () => {
    const s = memoryStorage();
    await putPayment(s, rec({ paymentHash: 'a', status: 'succeeded' }));
    await putPayment(s, rec({ paymentHash: 'p', status: 'pending', preimage: null }));
    expect(await updatePayment(s, 'a', { status: 'failed', error: 'late' })).toMatchObject({
      status: 'succeeded',
      error: null,
    });
    expect(await updatePayment(s, 'a', { status: 'unknown' })).toMatchObject({ status: 'succeeded' });
    // Racing writers: the success lands, the stale "unknown" after it does not undo it.
    await Promise.all([
      updatePayment(s, 'p', { status: 'succeeded', preimage: '22'.repeat(32) }),
      updatePayment(s, 'p', { status: 'unknown', error: 'stale lookup' }),
    ]);
    expect((await listPayments(s, { status: ['succeeded'] })).map((r) => r.paymentHash).sort()).toEqual(['a', 'p']);
    expect(await updatePayment(s, 'p', { error: 'x' }, { onlyIf: ['pending', 'unknown'] })).toMatchObject({
      error: null,
    });
  });

  it('escapes CSV fields (RFC 4180) and defuses spreadsheet formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField(null)).toBe('');
    expect(csvField(-1)).toBe('-1');
  });

  it('exports CSV with a header and sats', () => {
    const csv = toCsv([rec({ memo: 'cosine, batch "3"' })]);
    const [header, row, end] = csv.split('\r\n');
    expect(header?.split(',')).toContain('amountSats');
    expect(row).toContain(',21,1.5,"cosine, batch ""3""",');
    expect(row?.startsWith('2026-11-25T12:00:00.000Z,2026-11-25T12:00:01.000Z,succeeded,l402,')).toBe(true);
    expect(end).toBe('');
  });

  it('exports JSON that round-trips', () => {
    const r = [rec({})];
    expect(JSON.parse(toJson(r))).toEqual(r);
  });
});
