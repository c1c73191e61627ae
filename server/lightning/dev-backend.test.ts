import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeInvoice, verifyPreimage } from '../../src/l402/index.ts';
import { LightningNodeError } from '../nostr/lightning-node.ts';
import { tempDir } from '../../test/support/server-fixtures.ts';
import * as bolt11 from 'bolt11';
import { NotThisNodeError, openDevBackend } from './dev-backend.ts';
import { DevMainnetRefusedError, loadOrCreateNodeKey, signDevInvoice } from './dev-invoice.ts';
import { openDevWallet } from './dev-wallet.ts';

describe('dev backend', () => {
  it('refuses mainnet with a clear message', () => {
    expect(() => openDevBackend({ dataDir: tempDir(), network: 'mainnet' })).toThrow(DevMainnetRefusedError);
    expect(() => openDevBackend({ dataDir: tempDir(), network: 'mainnet' })).toThrow(/refuses to run on mainnet/);
  });

  it('issues real signed regtest invoices with the node key, persisted across restarts', async () => {
    const dataDir = tempDir();
    const dev = openDevBackend({ dataDir });
    const inv = await dev.createInvoice(21_000, 'hello', 600);
    const d = decodeInvoice(inv.paymentRequest);
    expect(d).toMatchObject({
      network: 'regtest',
      amountMsat: 21_000,
      paymentHash: inv.paymentHash,
      description: 'hello',
      expirySeconds: 600,
    });
    expect(inv.paymentRequest.startsWith('lnbcrt210n1')).toBe(true);
    expect(statSync(join(dataDir, 'dev-node-key.hex')).mode & 0o777).toBe(0o600);
    expect(await dev.lookupInvoice(inv.paymentHash)).toEqual({ state: 'open', preimage: null, amountPaidMsat: 0 });
    dev.flush();
    // A restarted node stored nothing for the open invoice, yet can still settle it from the invoice alone.
    const again = openDevBackend({ dataDir });
    expect(again.pubkey).toBe(dev.pubkey);
    const preimage = again.settle(inv.paymentRequest, 21_000);
    expect(verifyPreimage(preimage, inv.paymentHash)).toBe(true);
    const third = openDevBackend({ dataDir });
    expect(await third.lookupInvoice(inv.paymentHash)).toEqual({ state: 'settled', preimage, amountPaidMsat: 21_000 });
    expect(() => third.settle(inv.paymentRequest, 21_000)).toThrow(/already paid/);
    expect((await again.getInfo()).network).toBe('regtest');
  });

  it('stores nothing for unpaid invoices, and only what was paid', async () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'dev-node-invoices.json');
    const dev = openDevBackend({ dataDir });
    const paid = await dev.createInvoice(1000, 'paid', 600);
    dev.settle(paid.paymentRequest, 1000);
    const size = statSync(file).size;
    for (let i = 0; i < 300; i++) await dev.createInvoice(1000 + i, 'unpaid', 600);
    dev.flush();
    expect(statSync(file).size).toBe(size);
    expect(JSON.parse(readFileSync(file, 'utf8')).invoices.map((r: { paymentHash: string }) => r.paymentHash)).toEqual([
      paid.paymentHash,
    ]);
  });

  it('refuses to settle an invoice whose terms were altered, even when signed with the node key', async () => {
    const dataDir = tempDir();
    const dev = openDevBackend({ dataDir });
    const inv = await dev.createInvoice(50_000, 'x', 600);
    const d = bolt11.decode(inv.paymentRequest);
    const cheaper = signDevInvoice({
      key: loadOrCreateNodeKey(dataDir, 'dev-node-key.hex'),
      network: 'regtest',
      amountMsat: 1000,
      memo: 'x',
      expirySeconds: 600,
      paymentHashHex: inv.paymentHash,
      timestampS: d.timestamp ?? 0,
      paymentSecretHex: d.tagsObject.payment_secret ?? '',
    });
    expect(() => dev.settle(cheaper, 1000)).toThrow(NotThisNodeError);
    expect(() => dev.settle('lnbcrt1garbage', 1000)).toThrow(NotThisNodeError);
  });

  it('marks invoices past expiry as canceled and rejects unknown hashes', async () => {
    let now = 1_700_000_000_000;
    const dev = openDevBackend({ dataDir: tempDir(), now: () => now });
    const inv = await dev.createInvoice(1000, '', 60);
    now += 61_000;
    expect((await dev.lookupInvoice(inv.paymentHash)).state).toBe('canceled');
    await expect(dev.lookupInvoice('00'.repeat(32))).rejects.toThrow(/no invoice/);
  });
});

describe('dev wallet (DEV MONEY)', () => {
  it('pays a dev invoice: settles it, returns the preimage, debits the persisted balance', async () => {
    const dataDir = tempDir();
    const dev = openDevBackend({ dataDir });
    const wallet = openDevWallet({ dataDir, node: dev, initialBalanceSat: 100 });
    const inv = await dev.createInvoice(30_000, 'x', 600);
    const paid = await wallet.payInvoice({ invoice: inv.paymentRequest, feeLimitMsat: 0 });
    expect(verifyPreimage(paid.preimageHex, inv.paymentHash)).toBe(true);
    expect(await dev.lookupInvoice(inv.paymentHash)).toEqual({
      state: 'settled',
      preimage: paid.preimageHex,
      amountPaidMsat: 30_000,
    });
    expect((await wallet.getBalance()).balanceMsat).toBe(70_000);
    const tx = await wallet.lookupInvoice(inv.paymentHash);
    expect(tx).toMatchObject({ type: 'outgoing', state: 'settled', amountMsat: 30_000 });
    expect(await wallet.listTransactions({ limit: 5 })).toHaveLength(1);
    const reopened = openDevWallet({ dataDir, node: openDevBackend({ dataDir }) });
    expect((await reopened.getBalance()).balanceMsat).toBe(70_000);
  });

  it('refuses to pay twice, beyond its balance, or foreign invoices', async () => {
    const dataDir = tempDir();
    const dev = openDevBackend({ dataDir });
    const wallet = openDevWallet({ dataDir, node: dev, initialBalanceSat: 10 });
    const small = await dev.createInvoice(5000, '', 600);
    await wallet.pay(small.paymentRequest);
    await expect(wallet.pay(small.paymentRequest)).rejects.toThrow(/already paid/);
    const big = await dev.createInvoice(50_000, '', 600);
    await expect(wallet.pay(big.paymentRequest)).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE' });
    const other = openDevBackend({ dataDir: tempDir() });
    const foreign = await other.createInvoice(1000, '', 600);
    const err = await wallet.pay(foreign.paymentRequest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LightningNodeError);
    expect(err).toMatchObject({ code: 'PAYMENT_FAILED' });
  });

  it('makes its own (signed, unpayable here) invoices for NWC make_invoice', async () => {
    const dataDir = tempDir();
    const wallet = openDevWallet({ dataDir, node: openDevBackend({ dataDir }) });
    const tx = await wallet.makeInvoice({ amountMsat: 2000, description: 'tip' });
    expect(decodeInvoice(tx.invoice)).toMatchObject({ amountMsat: 2000, network: 'regtest', description: 'tip' });
    expect((await wallet.getInfo()).alias).toMatch(/DEV MONEY/);
  });
});
