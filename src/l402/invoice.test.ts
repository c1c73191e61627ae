import { describe, expect, it } from 'vitest';
import { signTestInvoice, type TestNetwork } from '../../test/support/invoices.ts';
import golden from '../../test/vectors/invoices.json' with { type: 'json' };
import {
  assertPayable,
  caveat,
  type DecodedInvoice,
  decodeInvoice,
  hexToBytes,
  type L402ErrorCode,
  mintMacaroon,
  type Network,
  parseL402Challenge,
  formatL402Challenge,
  paymentHashOf,
  validateChallenge,
} from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';

const SIGNING_KEY = golden.signingKey;
const T0 = 1_700_000_000;

interface MakeInvoice {
  network?: TestNetwork;
  satoshis?: number;
  millisatoshis?: string;
  timestamp?: number;
  paymentHash?: string;
  description?: string;
  expiry?: number;
}

/** A real, signed BOLT11 invoice (the bolt11 package is fine here: tests only). */
function makeInvoice(o: MakeInvoice = {}): string {
  return signTestInvoice({
    signingKey: SIGNING_KEY,
    network: o.network,
    satoshis: o.satoshis,
    millisatoshis: o.millisatoshis,
    timestamp: o.timestamp ?? T0,
    paymentHash: o.paymentHash ?? '01'.repeat(32),
    description: o.description ?? 'test',
    expirySeconds: o.expiry,
  });
}

describe('golden invoices (test/vectors/invoices.json)', () => {
  it.each(golden.invoices.map((v) => [v.name, v] as const))('%s', (_, v) => {
    expect(decodeInvoice(v.paymentRequest)).toEqual({
      paymentRequest: v.paymentRequest,
      ...v.expected,
      description: v.expected.description,
    });
  });

  it('re-encoding the same inputs with bolt11 gives the same strings (deterministic signatures)', () => {
    const regtest21 = golden.invoices.find((v) => v.name === 'regtest 21 sat')!;
    expect(
      makeInvoice({
        network: 'regtest',
        satoshis: 21,
        timestamp: 1700000300,
        paymentHash: '04'.repeat(32),
        description: '',
        expiry: 3600,
      }),
    ).toBe(regtest21.paymentRequest);
  });
});

describe('decodeInvoice', () => {
  it.each([
    ['mainnet', 'lnbc', { network: 'mainnet' as const, satoshis: 1000 }, 1_000_000],
    ['testnet', 'lntb', { network: 'testnet' as const, satoshis: 2 }, 2_000],
    ['signet', 'lntbs', { network: 'signet' as const, millisatoshis: '1500' }, 1_500],
    ['regtest', 'lnbcrt', { network: 'regtest' as const, satoshis: 50_000 }, 50_000_000],
  ])('%s', (network, prefix, opts, amountMsat) => {
    const pr = makeInvoice({ ...opts, paymentHash: 'cd'.repeat(32), description: 'vectors ✓', expiry: 900 });
    expect(pr.startsWith(prefix)).toBe(true);
    expect(decodeInvoice(pr)).toEqual({
      paymentRequest: pr,
      network,
      amountMsat,
      paymentHash: 'cd'.repeat(32),
      description: 'vectors ✓',
      timestamp: T0,
      expirySeconds: 900,
      expiresAt: T0 + 900,
    });
  });

  it('defaults expiry to 3600 s when the invoice has no expiry tag', () => {
    const inv = decodeInvoice(golden.invoices[0]!.paymentRequest);
    expect(inv.expirySeconds).toBe(3600);
    expect(inv.expiresAt).toBe(inv.timestamp + 3600);
  });

  it('reads a zero-amount invoice as amountMsat null', () => {
    expect(decodeInvoice(makeInvoice({ expiry: 60 })).amountMsat).toBeNull();
  });

  it('accepts an upper-case invoice (BOLT11 allows either case)', () => {
    const pr = makeInvoice({ satoshis: 1 });
    expect(decodeInvoice(pr.toUpperCase()).paymentHash).toBe('01'.repeat(32));
  });

  it.each([
    ['empty', ''],
    ['not ln', 'bc1qxyz'],
    ['bitcoin URI', 'bitcoin:bcrt1qxyz'],
    ['garbage after ln', 'lnbc1garbage'],
    ['bad checksum', `${makeInvoice({ satoshis: 1 }).slice(0, -1)}q`],
    ['truncated', makeInvoice({ satoshis: 1 }).slice(0, 60)],
    ['unknown network prefix', 'lnxy10u1pj48ugqpp5qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs'],
    ['too long', `lnbc1${'q'.repeat(8000)}`],
    ['whitespace', ` ${makeInvoice({ satoshis: 1 })}`],
    ['non-string', 42 as unknown as string],
  ])('refuses %s with bad_invoice', (_, pr) => {
    expect(codeOf(() => decodeInvoice(pr))).toBe('bad_invoice');
  });
});

describe('assertPayable', () => {
  const inv = decodeInvoice(makeInvoice({ satoshis: 10, expiry: 600, paymentHash: 'ab'.repeat(32) }));

  it('returns the invoice when every check passes', () => {
    expect(
      assertPayable(inv, { now: T0, networks: ['regtest'], paymentHash: 'AB'.repeat(32), expiryMarginSeconds: 30 }),
    ).toBe(inv);
    expect(assertPayable(inv, { now: T0 + 599 }).amountMsat).toBe(10_000);
  });

  it.each<[string, DecodedInvoice, Parameters<typeof assertPayable>[1], L402ErrorCode]>([
    ['zero amount', decodeInvoice(makeInvoice({ expiry: 600 })), { now: T0 }, 'amount_missing'],
    ['expired exactly at expiresAt', inv, { now: T0 + 600 }, 'invoice_expired'],
    ['expired long ago', inv, { now: T0 + 10_000 }, 'invoice_expired'],
    ['inside the margin', inv, { now: T0 + 571, expiryMarginSeconds: 30 }, 'invoice_expired'],
    ['wrong network', inv, { now: T0, networks: ['mainnet', 'testnet' as Network] }, 'wrong_network'],
    ['hash mismatch', inv, { now: T0, paymentHash: 'cd'.repeat(32) }, 'hash_mismatch'],
  ])('%s → %s', (_, i, checks, code) => {
    expect(codeOf(() => assertPayable(i, checks))).toBe(code);
  });

  it('just outside the margin is still payable', () => {
    expect(assertPayable(inv, { now: T0 + 569, expiryMarginSeconds: 30 }).amountMsat).toBe(10_000);
  });
});

describe('validateChallenge (end to end)', () => {
  const preimage = '77'.repeat(32);
  const paymentHash = paymentHashOf(preimage);
  const macaroon = mintMacaroon({
    rootKey: hexToBytes('01'.repeat(32))!,
    paymentHash: hexToBytes(paymentHash)!,
    tokenId: hexToBytes('02'.repeat(32))!,
    caveats: [caveat.services([{ name: 'similarity', tier: 0 }])],
  });

  it('accepts a challenge whose invoice pays the macaroon payment hash', () => {
    const invoice = makeInvoice({ satoshis: 21, paymentHash, expiry: 600 });
    const challenge = parseL402Challenge(formatL402Challenge({ macaroon, invoice }));
    const v = validateChallenge(challenge, { now: T0 + 10, networks: ['regtest'] });
    expect(v.challenge).toBe(challenge);
    expect(v.invoice.amountMsat).toBe(21_000);
    expect(v.invoice.paymentHash).toBe(paymentHash);
    expect(v.macaroon.paymentHash).toBe(paymentHash);
    expect(v.macaroon.caveats).toEqual(['services=similarity:0']);
  });

  it.each<[string, MakeInvoice, Parameters<typeof validateChallenge>[1], L402ErrorCode]>([
    ['invoice for another payment hash', { satoshis: 21, paymentHash: '99'.repeat(32) }, { now: T0 }, 'hash_mismatch'],
    ['zero-amount invoice', { paymentHash: '' }, { now: T0 }, 'amount_missing'],
    ['expired invoice', { satoshis: 21, paymentHash: '', expiry: 60 }, { now: T0 + 60 }, 'invoice_expired'],
    [
      'mainnet invoice, regtest wallet',
      { network: 'mainnet', satoshis: 21, paymentHash: '' },
      { now: T0, networks: ['regtest'] },
      'wrong_network',
    ],
  ])('refuses %s (%s)', (_, o, checks, code) => {
    const invoice = makeInvoice({ ...o, paymentHash: o.paymentHash || paymentHash });
    expect(codeOf(() => validateChallenge({ scheme: 'L402', macaroon, invoice }, checks))).toBe(code);
  });

  it('refuses an undecodable macaroon or invoice', () => {
    const invoice = makeInvoice({ satoshis: 21, paymentHash });
    expect(
      codeOf(() => validateChallenge({ scheme: 'L402', macaroon: macaroon.slice(0, 40), invoice }, { now: T0 })),
    ).toBe('bad_macaroon');
    expect(codeOf(() => validateChallenge({ scheme: 'L402', macaroon, invoice: 'lnbcrt1xyz' }, { now: T0 }))).toBe(
      'bad_invoice',
    );
  });
});
