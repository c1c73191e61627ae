// Test double of an L402 service + a wallet that can pay it: real BOLT11 invoices (bolt11 encode+sign, regtest),
// real macaroons and credential checks from the core. Used by the toolkit's unit tests; not part of the build.
import { randomBytes } from 'node:crypto';
import {
  bytesToHex,
  caveat,
  decodeInvoice,
  formatL402Challenges,
  hexToBytes,
  isL402Authorization,
  mintMacaroon,
  parseAuthorization,
  paymentHashOf,
  verifyCredential,
} from '../../l402/index.ts';
import { WalletError } from '../../wallet/wallet.ts';
import { signTestInvoice } from '../../../test/support/invoices.ts';

const NODE_KEY = '2b'.repeat(32); // a fixed regtest node key: tests need valid signatures, not secrecy

/** Makes a signed regtest invoice for `amountSat` with the given payment hash. */
export function makeInvoice(p: {
  paymentHash: string;
  amountSat: number | null;
  timestamp: number;
  expirySeconds?: number;
  description?: string;
}): string {
  return signTestInvoice({
    signingKey: NODE_KEY,
    satoshis: p.amountSat ?? undefined,
    timestamp: p.timestamp,
    paymentHash: p.paymentHash,
    paymentSecret: bytesToHex(randomBytes(32)),
    description: p.description ?? 'test service',
    expirySeconds: p.expirySeconds ?? 600,
  });
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  authorization: string | null;
}

export interface TestServerOptions {
  priceSat?: number;
  /** Tokens carry a `<service>_valid_until` caveat this many seconds after minting. */
  validForSeconds?: number;
  /** Clock (ms) for invoice timestamps and token checks. */
  now?: () => number;
  /** 402 even after a valid token: a server that never lets the client in. */
  alwaysChallenge?: boolean;
  /** Serve the same invoice and macaroon every time (a buggy or replaying server). */
  fixedChallenge?: boolean;
  /** Answer a rejected credential with 401 instead of a new 402. */
  rejectWith401?: boolean;
  /** Replace the 402 entirely (x402, Payment scheme, malformed…). */
  challenge?: () => Response;
  /** Tamper with the (macaroon, invoice) pair before sending it. */
  mutate?: (c: { macaroon: string; invoice: string }) => { macaroon: string; invoice: string };
  invoiceExpirySeconds?: number;
}

/** An L402 service as a fetch function, plus the preimages a test wallet needs to pay it. */
export function createTestServer(o: TestServerOptions = {}) {
  const rootKey = randomBytes(32);
  const now = o.now ?? Date.now;
  const preimages = new Map<string, string>();
  const revoked = new Set<string>();
  const seen: SeenRequest[] = [];
  let challenges = 0;
  let fixed: { macaroon: string; invoice: string } | null = null;

  function mint(): { macaroon: string; invoice: string } {
    if (o.fixedChallenge && fixed) return fixed;
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = paymentHashOf(preimage);
    preimages.set(paymentHash, preimage);
    const caveats = [caveat.services([{ name: 'similarity', tier: 0 }])];
    if (o.validForSeconds !== undefined) {
      caveats.push(caveat.validUntil('similarity', Math.floor(now() / 1000) + o.validForSeconds));
    }
    const macaroon = mintMacaroon({ rootKey, paymentHash: hexToBytes(paymentHash)!, tokenId: randomBytes(32), caveats });
    const timestamp = Math.floor(now() / 1000);
    const invoice = makeInvoice({ paymentHash, amountSat: o.priceSat ?? 10, timestamp, expirySeconds: o.invoiceExpirySeconds ?? 600 });
    const c = o.mutate ? o.mutate({ macaroon, invoice }) : { macaroon, invoice };
    if (o.fixedChallenge) fixed = c;
    return c;
  }

  function authorised(header: string | null): boolean {
    if (!header || !isL402Authorization(header)) return false;
    try {
      const t = verifyCredential(parseAuthorization(header), {
        rootKeyFor: () => rootKey,
        service: 'similarity',
        now: now() / 1000,
      });
      return !revoked.has(t.paymentHash);
    } catch {
      return false;
    }
  }

  async function fetchImpl(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const req = new Request(input, init);
    const authorization = req.headers.get('authorization');
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: await req.text(), authorization });
    if (!o.alwaysChallenge && authorised(authorization)) {
      return Response.json({ ok: true, path: new URL(req.url).pathname });
    }
    if (authorization && o.rejectWith401) return new Response('bad token', { status: 401 });
    challenges++;
    if (o.challenge) return o.challenge();
    const headers = new Headers({ 'content-type': 'application/json' });
    for (const line of formatL402Challenges(mint(), { lsatTwin: true })) headers.append('www-authenticate', line);
    return new Response(JSON.stringify({ error: 'payment required' }), { status: 402, headers });
  }

  return {
    fetch: fetchImpl as typeof fetch,
    seen,
    preimages,
    /** Makes tokens for this payment hash fail from now on. */
    revoke: (paymentHash: string) => revoked.add(paymentHash),
    get challenges() {
      return challenges;
    },
  };
}

export interface TestWalletOptions {
  /** Return this preimage instead of the right one. */
  wrongPreimage?: string;
  /** Throw this instead of paying. */
  fail?: WalletError;
  /** Awaited before answering (lets a test hold payments open). */
  gate?: Promise<void>;
}

/** A `{ payInvoice }` wallet that "pays" by looking the preimage up on the test server. */
export function createTestWallet(server: { preimages: Map<string, string> }, o: TestWalletOptions = {}) {
  const paid: string[] = [];
  return {
    paid,
    async payInvoice(invoice: string) {
      paid.push(invoice);
      await o.gate;
      if (o.fail) throw o.fail;
      const preimage = server.preimages.get(decodeInvoice(invoice).paymentHash);
      if (!preimage) throw new WalletError('payment_failed', 'no route');
      return { preimage: o.wrongPreimage ?? preimage, feeMsat: 0 };
    },
  };
}
