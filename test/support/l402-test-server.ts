// Test double of an L402 service + a wallet that can pay it: real BOLT11 invoices (bolt11 encode+sign, regtest),
// real macaroons and credential checks from the core. Used by the toolkit's unit tests; not part of the build.
import { randomBytes } from 'node:crypto';
import {
  bytesToBase64,
  bytesToHex,
  caveat,
  chargePreimageOf,
  decodeChargeRequest,
  decodeInvoice,
  encodeChargeRequest,
  formatL402Challenges,
  formatPaymentChallenge,
  formatPaymentReceipt,
  hexToBytes,
  isL402Authorization,
  isPaymentAuthorization,
  mintMacaroon,
  type PaymentChallenge,
  parseAuthorization,
  parsePaymentCredential,
  parseX402PaymentSignature,
  paymentChallengeId,
  paymentHashOf,
  pathInScope,
  verifyCredential,
  verifyPaymentChallengeId,
  verifyPreimage,
} from '../../src/l402/index.ts';
import { WalletError } from '../../src/wallet/wallet.ts';
import { signTestInvoice } from './invoices.ts';

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

interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  authorization: string | null;
}

interface TestServerOptions {
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
  /** What a 402 offers, in this order (default: L402 only). */
  schemes?: readonly ('l402' | 'payment' | 'x402')[];
  /** Price of the one-time `Payment` charge and x402 offer (default: `priceSat`). */
  chargePriceSat?: number;
  x402PriceSat?: number;
  /** With `rejectWith401`: the 401 carries a fresh challenge (bLIP-0026), not a bare "bad token". */
  challengeOn401?: boolean;
  /**
   * Tokens carry `similarity_path_prefix=<this>` for the path that got the challenge, and are honoured only under
   * it (default: no path caveat, a token is good on every path).
   */
  pathPrefixFor?: (path: string) => string;
}

/** CAIP-2 id of regtest, as x402 names Bitcoin chains. */
const REGTEST_CAIP2 = 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328';

/** An L402 service as a fetch function, plus the preimages a test wallet needs to pay it. */
export function createTestServer(o: TestServerOptions = {}) {
  const rootKey = randomBytes(32);
  const now = o.now ?? Date.now;
  const preimages = new Map<string, string>();
  const revoked = new Set<string>();
  const seen: SeenRequest[] = [];
  let challenges = 0;
  let fixed: { macaroon: string; invoice: string } | null = null;
  const hmacKey = randomBytes(32);
  /** Payment hashes paid through the test wallet, and one-time charges already redeemed. */
  const settled = new Set<string>();
  const spent = new Set<string>();
  const x402Issued = new Set<string>();

  function newInvoice(amountSat: number): { invoice: string; paymentHash: string } {
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = paymentHashOf(preimage);
    preimages.set(paymentHash, preimage);
    const timestamp = Math.floor(now() / 1000);
    return {
      paymentHash,
      invoice: makeInvoice({ paymentHash, amountSat, timestamp, expirySeconds: o.invoiceExpirySeconds ?? 600 }),
    };
  }

  function chargeLine(): string {
    const amount = o.chargePriceSat ?? o.priceSat ?? 10;
    const { invoice, paymentHash } = newInvoice(amount);
    const request = encodeChargeRequest({
      amount: String(amount),
      currency: 'sat',
      methodDetails: { invoice, paymentHash, network: 'regtest' },
    });
    const expires = new Date(now() + 600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const params = { realm: 'api.test', method: 'lightning', intent: 'charge', request, expires };
    return formatPaymentChallenge({ id: paymentChallengeId(hmacKey, params), ...params });
  }

  function x402Header(): string {
    const amount = o.x402PriceSat ?? o.priceSat ?? 10;
    const { invoice } = newInvoice(amount);
    x402Issued.add(invoice);
    const accepts = [
      { scheme: 'exact', network: 'eip155:8453', amount: '10000', asset: 'USDC', payTo: '0x0' },
      {
        scheme: 'exact',
        network: REGTEST_CAIP2,
        amount: String(amount * 1000),
        asset: 'BTC',
        payTo: 'anonymous',
        maxTimeoutSeconds: 600,
        extra: { paymentMethod: 'lightning', invoice },
      },
    ];
    return bytesToBase64(new TextEncoder().encode(JSON.stringify({ x402Version: 2, accepts })));
  }

  /** A one-time charge credential: our HMAC id, unexpired, preimage of its invoice, never seen before. */
  function chargeOk(header: string | null): PaymentChallenge | null {
    if (!header || !isPaymentAuthorization(header)) return null;
    try {
      const cred = parsePaymentCredential(header);
      if (!verifyPaymentChallengeId(hmacKey, cred.challenge)) return null;
      const hash = decodeInvoice(decodeChargeRequest(cred.challenge.request).methodDetails.invoice).paymentHash;
      if (!verifyPreimage(chargePreimageOf(cred), hash) || spent.has(hash)) return null;
      spent.add(hash);
      return cred.challenge;
    } catch {
      return null;
    }
  }

  function x402Ok(header: string | null): boolean {
    if (!header) return false;
    try {
      const invoice = parseX402PaymentSignature(header).payload.invoice;
      const hash = decodeInvoice(invoice).paymentHash;
      if (!x402Issued.has(invoice) || !settled.has(hash) || spent.has(hash)) return false;
      spent.add(hash);
      return true;
    } catch {
      return false;
    }
  }

  function mint(path: string): { macaroon: string; invoice: string } {
    if (o.fixedChallenge && fixed) return fixed;
    const preimage = bytesToHex(randomBytes(32));
    const paymentHash = paymentHashOf(preimage);
    preimages.set(paymentHash, preimage);
    const caveats = [caveat.services([{ name: 'similarity', tier: 0 }])];
    if (o.validForSeconds !== undefined) {
      caveats.push(caveat.validUntil('similarity', Math.floor(now() / 1000) + o.validForSeconds));
    }
    if (o.pathPrefixFor) caveats.push(caveat.constraint('similarity', 'path_prefix', o.pathPrefixFor(path)));
    const macaroon = mintMacaroon({
      rootKey,
      paymentHash: hexToBytes(paymentHash)!,
      tokenId: randomBytes(32),
      caveats,
    });
    const timestamp = Math.floor(now() / 1000);
    const invoice = makeInvoice({
      paymentHash,
      amountSat: o.priceSat ?? 10,
      timestamp,
      expirySeconds: o.invoiceExpirySeconds ?? 600,
    });
    const c = o.mutate ? o.mutate({ macaroon, invoice }) : { macaroon, invoice };
    if (o.fixedChallenge) fixed = c;
    return c;
  }

  function authorised(header: string | null, path: string): boolean {
    if (!header || !isL402Authorization(header)) return false;
    try {
      const t = verifyCredential(parseAuthorization(header), {
        rootKeyFor: () => rootKey,
        service: 'similarity',
        now: now() / 1000,
        constraints: { similarity_path_prefix: (prefix) => pathInScope(path, prefix) || `not valid for ${path}` },
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
    const path = new URL(req.url).pathname;
    if (!o.alwaysChallenge && authorised(authorization, path)) return Response.json({ ok: true, path });
    const charge = o.alwaysChallenge ? null : chargeOk(authorization);
    if (charge) {
      const receipt = formatPaymentReceipt({
        status: 'success',
        method: 'lightning',
        timestamp: new Date(now()).toISOString(),
        reference: 'r',
        challengeId: charge.id,
      });
      return Response.json({ ok: true, path }, { headers: { 'payment-receipt': receipt } });
    }
    if (!o.alwaysChallenge && x402Ok(req.headers.get('payment-signature'))) return Response.json({ ok: true, path });
    const sentCredential = authorization !== null || req.headers.has('payment-signature');
    if (sentCredential && o.rejectWith401 && !o.challengeOn401) return new Response('bad token', { status: 401 });
    challenges++;
    if (o.challenge) return o.challenge();
    const headers = new Headers({ 'content-type': 'application/json' });
    for (const scheme of o.schemes ?? ['l402']) {
      if (scheme === 'l402')
        for (const line of formatL402Challenges(mint(path), { lsatTwin: true }))
          headers.append('www-authenticate', line);
      if (scheme === 'payment') headers.append('www-authenticate', chargeLine());
      if (scheme === 'x402') headers.set('payment-required', x402Header());
    }
    const status = sentCredential && o.rejectWith401 ? 401 : 402;
    return new Response(JSON.stringify({ error: 'payment required' }), { status, headers });
  }

  return {
    fetch: fetchImpl as typeof fetch,
    seen,
    preimages,
    settled,
    /** Makes tokens for this payment hash fail from now on. */
    revoke: (paymentHash: string) => revoked.add(paymentHash),
    get challenges() {
      return challenges;
    },
  };
}

interface TestWalletOptions {
  /** Return this preimage instead of the right one. */
  wrongPreimage?: string;
  /** Throw this instead of paying. */
  fail?: WalletError;
  /** Awaited before answering (lets a test hold payments open). */
  gate?: Promise<void>;
}

/** A `{ payInvoice }` wallet that "pays" by looking the preimage up on the test server. */
export function createTestWallet(
  server: { preimages: Map<string, string>; settled?: Set<string> },
  o: TestWalletOptions = {},
) {
  const paid: string[] = [];
  return {
    paid,
    async payInvoice(invoice: string) {
      paid.push(invoice);
      await o.gate;
      if (o.fail) throw o.fail;
      const hash = decodeInvoice(invoice).paymentHash;
      const preimage = server.preimages.get(hash);
      if (!preimage) throw new WalletError('payment_failed', 'no route');
      server.settled?.add(hash);
      return { preimage: o.wrongPreimage ?? preimage, feeMsat: 0 };
    },
  };
}
