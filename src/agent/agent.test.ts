// The agent engine against a local priced HTTP service and a fake wallet: the outcomes behind the exit codes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signTestInvoice } from '../../test/support/invoices.ts';
import { listPayments } from '../extension/background/ledger.ts';
import { listReservations } from '../extension/background/reservations.ts';
import { upsertSiteRule } from '../extension/background/settings.ts';
import { decodeInvoice, decodeMacaroon, formatL402Challenge, mintMacaroon, parseAuthorization } from '../l402/index.ts';
import type { PaymentLookup, Wallet } from '../wallet/wallet.ts';
import { WalletError } from '../wallet/wallet.ts';
import { Agent } from './agent.ts';
import { AgentError, EXIT } from './errors.ts';
import { openHome, writeSecret } from './home.ts';
import { type SqliteStorage, sqliteStorage } from './sqlite-storage.ts';

const KEY = 'e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734'; // BOLT11's example node key
const preimages = new Map<string, string>(); // hash → preimage, as the "wallet" learns them by paying
let server: Server;
let base = '';

beforeAll(async () => {
  const rootKey = randomBytes(32);
  server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (req.url === '/broken') {
      res
        .writeHead(402, { 'www-authenticate': 'L402 macaroon="bm90IGEgbWFjYXJvb24=", invoice="lnbcrt1garbage"' })
        .end();
      return;
    }
    if (auth) {
      const { macaroons, preimage } = parseAuthorization(auth);
      if (
        createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex') ===
        decodeMacaroon(macaroons[0]!).paymentHash
      ) {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('the goods');
        return;
      }
    }
    const preimage = randomBytes(32);
    const hash = createHash('sha256').update(preimage).digest('hex');
    preimages.set(hash, preimage.toString('hex'));
    const invoice = signTestInvoice({
      signingKey: KEY,
      paymentHash: hash,
      timestamp: Math.floor(Date.now() / 1000),
      description: 'x',
      satoshis: 10,
    });
    const macaroon = mintMacaroon({ rootKey, paymentHash: Buffer.from(hash, 'hex'), tokenId: randomBytes(32) });
    res.writeHead(402, { 'www-authenticate': formatL402Challenge({ macaroon, invoice }) }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const dirs: string[] = [];
const stores: SqliteStorage[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A wallet whose payInvoice does `pay`, and whose lookups answer `lookup`. */
function fakeWallet(
  pay: (hash: string) => Promise<{ preimage: string; feeMsat: number | null }>,
  lookup?: (hash: string) => PaymentLookup,
): Wallet & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async payInvoice(invoice) {
      const hash = decodeInvoice(invoice).paymentHash;
      calls.push(hash);
      return pay(hash);
    },
    ...(lookup ? { lookupPayment: async (h: string) => lookup(h) } : {}),
  };
}

async function agentWith(dir: string, wallet: Wallet, runBudgetMsat: number | null = null): Promise<Agent> {
  const home = openHome(dir);
  writeSecret(home.walletFile, 'nostr+walletconnect://test');
  const storage = sqliteStorage(home.database);
  stores.push(storage);
  await upsertSiteRule(storage, { pattern: base, budgetMsat: 100_000, period: 'daily', autoPay: true });
  return new Agent({ home, storage, walletFor: () => wallet, runBudgetMsat });
}

const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'agent-engine-'));
  dirs.push(d);
  return d;
};

async function codeOf(p: Promise<unknown>): Promise<{ code: string; exit: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AgentError) return { code: e.code, exit: e.exitCode, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
}

describe('Agent', () => {
  it('pays once, verifies the preimage and reuses the token', async () => {
    const wallet = fakeWallet(async (h) => ({ preimage: preimages.get(h)!, feeMsat: 0 }));
    const agent = await agentWith(newDir(), wallet);
    const first = await agent.fetch({ url: `${base}/a` });
    expect(first.status).toBe(200);
    expect(new TextDecoder().decode(first.body)).toBe('the goods');
    expect(first.paid).toMatchObject({ scheme: 'L402', amountSats: 10, feeSats: 0 });
    const second = await agent.fetch({ url: `${base}/a` });
    expect(second).toMatchObject({ status: 200, paid: null, usedToken: true });
    expect(wallet.calls).toHaveLength(1);
  });

  it('a wallet timeout is "payment unknown" (exit 5), stays reserved, and the next start resumes it without paying', async () => {
    const dir = newDir();
    const hanging = fakeWallet(
      async () => {
        throw new WalletError('timeout', 'no reply');
      },
      () => ({ state: 'pending' }),
    );
    const first = await agentWith(dir, hanging);
    expect(await codeOf(first.fetch({ url: `${base}/b` }))).toMatchObject({
      code: 'payment_unknown',
      exit: EXIT.paymentUnknown,
    });
    const [open] = await listPayments(first.storage);
    expect(open?.status).toBe('unknown');
    expect((await listReservations(first.storage)).map((r) => r.state)).toEqual(['reserved']);

    // Restart: the wallet now knows the payment went through.
    const recovered = fakeWallet(
      async () => {
        throw new Error('must not pay again');
      },
      (h) => ({ state: 'succeeded', preimage: preimages.get(h)!, feeMsat: 1000 }),
    );
    const second = await agentWith(dir, recovered);
    expect(await second.resume()).toEqual({ succeeded: [open!.paymentHash], failed: [], stillUnknown: [] });
    const again = await second.fetch({ url: `${base}/b` });
    expect(again).toMatchObject({ status: 200, paid: null, usedToken: true });
    expect(recovered.calls).toEqual([]);
    expect((await listReservations(second.storage)).map((r) => [r.state, r.spentMsat])).toEqual([
      ['committed', 11_000],
    ]);
  });

  it('an open payment (a live wallet timeout) is looked up before its scope is paid again: payment_unknown, then its token serves', async () => {
    const dir = newDir();
    let state: 'pending' | 'succeeded' = 'pending';
    const wallet = fakeWallet(
      async () => {
        throw new WalletError('timeout', 'no reply');
      },
      (h) => (state === 'succeeded' ? { state, preimage: preimages.get(h)!, feeMsat: 0 } : { state }),
    );
    const agent = await agentWith(dir, wallet);
    expect((await codeOf(agent.fetch({ url: `${base}/e` }))).code).toBe('payment_unknown');
    // The server answers the next call with a NEW invoice for the same resource: not paid while the first is open.
    const again = await codeOf(agent.fetch({ url: `${base}/e` }));
    expect(again).toMatchObject({ code: 'payment_unknown', exit: EXIT.paymentUnknown });
    expect(again.message).toMatch(/still being checked/);
    // Another process on the same database (no resume run) holds back too.
    const other = await agentWith(dir, wallet);
    expect((await codeOf(other.fetch({ url: `${base}/e` }))).code).toBe('payment_unknown');
    expect(wallet.calls).toHaveLength(1);
    state = 'succeeded';
    expect(await other.fetch({ url: `${base}/e` })).toMatchObject({ status: 200, paid: null, usedToken: true });
    expect(wallet.calls).toHaveLength(1);
    expect((await listPayments(agent.storage)).map((p) => p.status)).toEqual(['succeeded']);
  });

  it('an unreachable wallet is exit 4 and gives the budget back', async () => {
    const agent = await agentWith(
      newDir(),
      fakeWallet(async () => {
        throw new WalletError('unreachable', 'relay down');
      }),
    );
    expect(await codeOf(agent.fetch({ url: `${base}/c` }))).toMatchObject({
      code: 'wallet_unreachable',
      exit: EXIT.walletUnreachable,
    });
    expect(await listReservations(agent.storage)).toEqual([]);
    expect((await listPayments(agent.storage)).map((p) => p.status)).toEqual(['failed']);
  });

  it('a malformed challenge is exit 6, and the run budget refuses (exit 3) before the wallet is called', async () => {
    const wallet = fakeWallet(async (h) => ({ preimage: preimages.get(h)!, feeMsat: 0 }));
    const agent = await agentWith(newDir(), wallet, 15_000);
    expect(await codeOf(agent.fetch({ url: `${base}/broken` }))).toMatchObject({
      code: 'bad_challenge',
      exit: EXIT.badChallenge,
    });
    const refused = await codeOf(agent.fetch({ url: `${base}/d` })); // 10 sats + 10 max fee > 15
    expect(refused).toMatchObject({ code: 'refused', exit: EXIT.refused });
    expect(refused.message).toMatch(/this run's budget/);
    expect(wallet.calls).toEqual([]);
    expect(await agent.preview({ url: `${base}/d` })).toMatchObject({
      challenge: { amountSats: 10 },
      verdict: { action: 'refuse' },
    });
  });
});
