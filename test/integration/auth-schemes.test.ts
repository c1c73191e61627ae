// Every AUTH_SCHEMES mode of our server (lnd backend = alice) paid over regtest, by our toolkit (through our NWC
// adapter → bob) and by @getalby/lightning-tools' fetch402 (an independent client of L402, the Payment charge and
// x402 Lightning).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch402 } from '@getalby/lightning-tools/402';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../server/config.ts';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import {
  parsePaymentCredential,
  parsePaymentReceipt,
  parseX402PaymentRequired,
  parseX402PaymentSignature,
} from '../../src/l402/index.ts';
import { type ChallengeInfo, fetchWithL402, isL402FetchError, memoryTokenStore } from '../../src/toolkit/index.ts';
import { createNwcWallet } from '../../src/wallet/nwc.ts';
import type { Wallet } from '../../src/wallet/wallet.ts';
import { control, lnd } from './regtest-context.ts';

const PAIR = { a: [1, 2, 3], b: [2, 4, 6.5] };
const init = (): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(PAIR),
});
const MODES: ServerConfig['authSchemes'][] = [
  'l402',
  'payment',
  'x402',
  'l402,payment',
  'l402,x402',
  'payment,x402',
  'l402,payment,x402',
];
/** What a client should pay in `mode`: a reusable L402 token over a one-time charge, else the first (same price). */
const preferred = (mode: string) => (mode.includes('l402') ? 'l402' : mode.split(',')[0]!);
const decode64 = (s: string) => JSON.parse(Buffer.from(s, 'base64').toString('utf8')) as Record<string, unknown>;

describe.each(MODES)('AUTH_SCHEMES=%s on regtest', (mode) => {
  let server: RunningServer;
  let dataDir: string;
  let wallet: Wallet;
  const alice = lnd('alice');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'auth-schemes-'));
    server = await startServer({ config: { port: 0, dataDir, authSchemes: mode }, backend: lndBackend(alice) });
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', {});
    wallet = createNwcWallet(nwcUri, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    wallet?.close?.();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the toolkit pays, settles on alice, and reuses where the scheme allows', async () => {
    const asked: ChallengeInfo[] = [];
    const sent: Request[] = [];
    const options = {
      wallet,
      tokenStore: memoryTokenStore(),
      networks: ['regtest'] as const,
      fetch: (async (input: RequestInfo | URL, i?: RequestInit) => {
        const r = new Request(input, i);
        sent.push(r.clone());
        return fetch(r);
      }) as typeof fetch,
      onChallenge: (c: ChallengeInfo) => {
        asked.push(c);
        return true;
      },
    };
    const res = await fetchWithL402(`${server.url}/v1/similarity`, init(), options);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { similarity: number }).similarity).toBeGreaterThan(0.99);
    // L402's reusable token wins when offered; the Payment charge and x402 cost the same, so the server's order decides.
    const scheme = preferred(mode);
    expect(asked.map((a) => a.scheme)).toEqual([scheme]);
    expect((await alice.lookupInvoice(asked[0]!.paymentHash)).state).toBe('SETTLED');
    if (scheme === 'payment') expect(parsePaymentReceipt(res.headers.get('payment-receipt')!).status).toBe('success');
    if (scheme === 'x402')
      expect(decode64(res.headers.get('payment-response')!)).toMatchObject({
        success: true,
        network: 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328',
      });

    const again = await fetchWithL402(`${server.url}/v1/similarity`, init(), options);
    expect(again.status).toBe(200);
    expect(asked).toHaveLength(scheme === 'l402' ? 1 : 2); // a token is reused, a charge pays once per request

    // Replaying a paid one-time credential is refused with a fresh offer; nothing is served twice.
    const header = scheme === 'x402' ? 'payment-signature' : 'authorization';
    if (scheme !== 'l402') {
      const value = sent.find((r) => r.headers.has(header) && r.headers.get(header) !== '')!.headers.get(header)!;
      if (scheme === 'payment') expect(parsePaymentCredential(value).challenge.intent).toBe('charge');
      else expect(parseX402PaymentSignature(value).payload.invoice).toMatch(/^lnbcrt/);
      const replay = await fetch(`${server.url}/v1/similarity`, {
        ...init(),
        headers: { 'content-type': 'application/json', [header]: value },
      });
      expect(replay.status).toBe(402);
      expect(await replay.json()).toMatchObject({ rejected: { code: 'charge_spent' } });
      if (mode.includes('x402'))
        expect(parseX402PaymentRequired(replay.headers.get('payment-required')!).accepts).toHaveLength(1);
    }
  });

  it('sends each challenge on its own header line, the LSAT twin too (as Aperture does)', async () => {
    const res = await fetch(`${server.url}/v1/similarity`, init());
    await res.body?.cancel();
    expect(res.status).toBe(402);
    // Node's fetch joins repeated lines with ", ": count the line starts through the raw headers instead.
    const raw = await new Promise<string[]>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(
          `${server.url}/v1/similarity`,
          { method: 'POST', headers: { 'content-type': 'application/json' } },
          (r) => {
            r.resume();
            const lines: string[] = [];
            for (let i = 0; i < r.rawHeaders.length; i += 2)
              if (r.rawHeaders[i]!.toLowerCase() === 'www-authenticate') lines.push(r.rawHeaders[i + 1]!);
            resolve(lines);
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(PAIR));
      }, reject);
    });
    const want = [
      ...(mode.includes('l402') ? [['LSAT'], ['L402']] : []),
      ...(mode.includes('payment') ? [['Payment']] : []),
    ];
    expect(raw.map((l) => [...l.matchAll(/(?:^|, )(LSAT|L402|Payment) /g)].map((m) => m[1]))).toEqual(want);
    // x402's offer is its own header, not a WWW-Authenticate challenge.
    expect(res.headers.has('payment-required')).toBe(mode.includes('x402'));
  });

  it('refuses an invoice above maxAmountSat without paying', async () => {
    const paid: string[] = [];
    const counting = {
      payInvoice: (invoice: string) => {
        paid.push(invoice);
        return wallet.payInvoice(invoice);
      },
    };
    const e = await fetchWithL402(`${server.url}/v1/similarity`, init(), {
      wallet: counting,
      tokenStore: memoryTokenStore(),
      maxAmountSat: 5,
    }).catch((x: unknown) => x);
    expect(isL402FetchError(e, 'over_limit')).toBe(true);
    expect(paid).toEqual([]);
  });

  it("@getalby/lightning-tools' fetch402 pays our server", async () => {
    const res = await fetch402(`${server.url}/v1/similarity`, init(), {
      wallet: { payInvoice: async ({ invoice }) => ({ preimage: (await wallet.payInvoice(invoice)).preimage }) },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { similarity: number }).similarity).toBeGreaterThan(0.99);
    expect(res.payment?.paid).toBe(true);
    expect(res.payment?.preimage).toMatch(/^[0-9a-f]{64}$/);
    // It pays L402 when offered, then the Payment charge, then x402 (its fetch402's order).
    const paid = mode.includes('l402') ? 'l402' : mode.includes('payment') ? 'payment' : 'x402';
    const cred = res.payment?.credentials;
    if (paid === 'x402') {
      expect(cred?.header).toBe('payment-signature');
      expect(parseX402PaymentSignature(cred?.value ?? '').payload.invoice).toMatch(/^lnbcrt/);
      expect(decode64(res.headers.get('payment-response')!)).toMatchObject({ success: true });
    } else expect(cred?.value.split(' ')[0]).toMatch(paid === 'payment' ? /^Payment$/ : /^(L402|LSAT)$/);
  });
});
