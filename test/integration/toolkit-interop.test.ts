// Interop for real: our server (lnd backend = alice) paid over regtest by
//  1. our toolkit through @getalby/sdk's NostrWebLNProvider (an independent WebLN implementation over NWC → bob),
//  2. our toolkit through our own NWC adapter (createNwcWallet),
//  3. @getalby/lightning-tools' fetchWithL402 (an independent L402 client) with the same NWC-backed provider.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchWithL402 as albyFetchWithL402 } from '@getalby/lightning-tools/402/l402';
import { NostrWebLNProvider } from '@getalby/sdk/webln';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { fetchWithL402, memoryTokenStore } from '../../src/toolkit/index.ts';
import { createNwcWallet } from '../../src/wallet/nwc.ts';
import { control, lnd, regtest } from './regtest-context.ts';

const PAIR = { a: [1, 2, 3], b: [2, 4, 6.5] };
const init = (): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(PAIR),
});

describe('toolkit interop on regtest', () => {
  let server: RunningServer;
  let dataDir: string;
  const alice = lnd('alice');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'toolkit-interop-'));
    server = await startServer({ config: { port: 0, dataDir }, backend: lndBackend(alice) });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the toolkit pays our server through NostrWebLNProvider (NWC → bob → alice) and reuses the token', async () => {
    const provider = new NostrWebLNProvider({ nostrWalletConnectUrl: regtest().nwcUri });
    try {
      const tokenStore = memoryTokenStore();
      const asked: number[] = [];
      const options = {
        wallet: provider,
        tokenStore,
        networks: ['regtest'] as const,
        maxAmountSat: 10_000,
        onChallenge: (c: { amountSat: number }) => {
          asked.push(c.amountSat);
          return true;
        },
      };
      const res = await fetchWithL402(`${server.url}/v1/similarity`, init(), options);
      expect(res.status).toBe(200);
      const { similarity } = (await res.json()) as { similarity: number };
      expect(similarity).toBeGreaterThan(0.99);
      expect(asked).toHaveLength(1);

      const [token] = await tokenStore.list(new URL(server.url).origin);
      expect(token).toBeDefined();
      const invoice = await alice.lookupInvoice(token!.paymentHash);
      expect(invoice.state).toBe('SETTLED');
      expect(invoice.preimageHex).toBe(token!.preimage);

      const again = await fetchWithL402(`${server.url}/v1/similarity`, init(), options);
      expect(again.status).toBe(200);
      expect(asked).toHaveLength(1); // the stored token was accepted: no second payment
    } finally {
      provider.close();
    }
  });

  it('the toolkit pays through our own NWC wallet adapter', async () => {
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', {});
    const wallet = createNwcWallet(nwcUri, { timeoutMs: 60_000 });
    try {
      const tokenStore = memoryTokenStore();
      const res = await fetchWithL402(`${server.url}/v1/similarity`, init(), {
        wallet,
        tokenStore,
        networks: ['regtest'],
      });
      expect(res.status).toBe(200);
      const [token] = await tokenStore.list(new URL(server.url).origin);
      expect((await alice.lookupInvoice(token!.paymentHash)).state).toBe('SETTLED');
      const lookup = await wallet.lookupPayment!(token!.paymentHash);
      expect(lookup.state === 'succeeded' || lookup.state === 'unknown').toBe(true); // lookup_invoice support varies
    } finally {
      wallet.close?.();
    }
  });

  it('one token, two paths: a batch token (no path caveat) serves the pair route without a second payment', async () => {
    const { nwcUri } = await control<{ nwcUri: string }>('/nwc/connections', {});
    const wallet = createNwcWallet(nwcUri, { timeoutMs: 60_000 });
    try {
      const tokenStore = memoryTokenStore();
      const asked: string[] = [];
      const sent: (string | null)[] = [];
      const options = {
        wallet,
        tokenStore,
        networks: ['regtest'] as const,
        fetch: ((input: RequestInfo | URL, i?: RequestInit) => {
          const r = new Request(input, i);
          sent.push(r.headers.get('authorization'));
          return fetch(r);
        }) as typeof fetch,
        onChallenge: (c: { url: string }) => {
          asked.push(new URL(c.url).pathname);
          return true;
        },
      };
      const batch = await fetchWithL402(
        `${server.url}/v1/similarity/batch`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: [1, 2, 3],
            vectors: [
              [2, 4, 6.5],
              [3, 2, 1],
            ],
          }),
        },
        options,
      );
      expect(batch.status).toBe(200);
      expect(asked).toEqual(['/v1/similarity/batch']);
      const [token] = await tokenStore.list(new URL(server.url).origin);
      expect(token?.pathPrefix).toBe('/'); // the server names no path: the token is the whole origin's
      expect(token?.validUntil).toBeGreaterThan(Date.now()); // unix ms, from similarity_valid_until (seconds)

      const pair = await fetchWithL402(`${server.url}/v1/similarity`, init(), options);
      expect(pair.status).toBe(200);
      expect(((await pair.json()) as { similarity: number }).similarity).toBeGreaterThan(0.99);
      expect(asked).toHaveLength(1); // the held token was sent up front and accepted: nothing paid again
      expect(sent.at(-1)).toBe(sent[1]);
      expect(sent).toHaveLength(3);
    } finally {
      wallet.close?.();
    }
  });

  it("@getalby/lightning-tools' fetchWithL402 pays our server with the NWC-backed provider", async () => {
    const provider = new NostrWebLNProvider({ nostrWalletConnectUrl: regtest().nwcUri });
    try {
      await provider.enable();
      const res = await albyFetchWithL402(`${server.url}/v1/similarity`, init(), {
        wallet: { payInvoice: ({ invoice }) => provider.sendPayment(invoice) },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { similarity: number }).similarity).toBeGreaterThan(0.99);
      expect(res.payment?.paid).toBe(true);
      const preimage = res.payment?.preimage;
      expect(preimage).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      provider.close();
    }
  });
});
