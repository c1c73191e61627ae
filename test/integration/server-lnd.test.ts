// The server on alice's lnd, paid by bob over a real NWC connection; alice down → 503, back → 402/200.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NWCClient } from '@getalby/sdk/nwc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import { formatAuthorization, parseL402Challenge, validateChallenge, verifyPreimage } from '../../src/l402/index.ts';
import { control, lnd, regtest } from './regtest-context.ts';

const body = JSON.stringify({ a: [1, 0, 1], b: [1, 1, 0] });
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/similarity`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

describe('server with the lnd backend (alice) on regtest', () => {
  const alice = lnd('alice');
  let server: RunningServer;
  let dataDir: string;
  let client: NWCClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'server-lnd-'));
    server = await startServer({ config: { port: 0, dataDir, backendTimeoutMs: 3_000 }, backend: lndBackend(alice) });
    client = new NWCClient({ nostrWalletConnectUrl: regtest().nwcUri });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function payAndCall(): Promise<{ status: number; paymentHash: string }> {
    const challenged = await post(server.url);
    expect(challenged.status).toBe(402);
    const challenge = parseL402Challenge(challenged.headers.get('www-authenticate')!);
    const { invoice } = validateChallenge(challenge, { now: Date.now() / 1000, networks: ['regtest'] });
    const { preimage } = await client.payInvoice({ invoice: challenge.invoice });
    expect(verifyPreimage(preimage, invoice.paymentHash)).toBe(true);
    const paid = await post(server.url, {
      authorization: formatAuthorization({ macaroons: [challenge.macaroon], preimage }),
    });
    return { status: paid.status, paymentHash: invoice.paymentHash };
  }

  it('402 → bob pays over NWC → the retry with the credential gets 200; the invoice is SETTLED in alice', async () => {
    const { status, paymentHash } = await payAndCall();
    expect(status).toBe(200);
    const inv = await alice.lookupInvoice(paymentHash);
    expect(inv.state).toBe('SETTLED');
    expect(inv.amountPaidMsat).toBeGreaterThan(0);
  });

  it("answers 503 with Retry-After while alice's lnd is down, and 402/200 again once it is back", async () => {
    await control('/alice/stop');
    try {
      const res = await post(server.url);
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      const json = (await res.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBeTruthy();
      expect(JSON.stringify(json)).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    } finally {
      await control('/alice/start');
    }
    const { status } = await payAndCall();
    expect(status).toBe(200);
  });
});
