// The HTTP app (docs/design.md#the-server): a Hono app over web-standard Request/Response built from injected
// dependencies, so tests drive it through `app.fetch(new Request(…))` with no socket.
import { Hono } from 'hono';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { bodyCap, readBytes } from './body-cap.ts';
import { authSchemeList, type ServerConfig } from './config.ts';
import type { HttpBindings } from '@hono/node-server';
import { createVerifiedCache, errorBody, type L402GateOptions, type PaidRouteSpec } from './gate/l402-gate.ts';
import { type AuthGateOptions, checkPaid } from './gate/auth-gate.ts';
import { paymentChallengeKey } from './gate/payment-gate.ts';
import { caip2Network, x402OfferKey } from './gate/x402-gate.ts';
import { createTokenBucket } from './gate/rate-limit.ts';
import { type ChargeSpender, memorySpentCharges } from './gate/spent-charges.ts';
import { type LightningBackend, withTimeouts } from './lightning/backend.ts';
import { prefersHtml } from './html/negotiate.ts';
import { errorPage, HTML_HEADERS, similarityPage } from './html/similarity-page.ts';
import type { Logger } from './log.ts';
import { batchSpec, discoveryDocument, pairSpec, pricingDocument } from './pricing.ts';
import { isF32BatchBody, scoreBinaryBatch, scoreBinaryPair } from './similarity/binary-body.ts';
import { cosine, cosineBatch } from './similarity/cosine.ts';
import { selectTopK } from './similarity/top-k.ts';
import {
  parseBatchInput,
  parsePairInput,
  parsePairQuery,
  ValidationError,
  type VectorLimits,
} from './similarity/validate.ts';
import type { TokenAuthority } from './tokens/token-authority.ts';
import { errorMessage } from '../src/util/error-message.ts';

/** Everything the app needs; tests pass fakes. */
export interface AppDeps {
  config: ServerConfig;
  backend: LightningBackend;
  tokens: TokenAuthority;
  /** Unix milliseconds (injected so tests can expire tokens). */
  clock: () => number;
  log: Logger;
  /** Network shown in the discovery document (e.g. 'regtest'); null when unknown. */
  network?: string | null;
  /** false serves the paid routes for free: only for the benchmark's no-gate baseline. Default true. */
  paywall?: boolean;
  /** Redeemed one-time charges, `Payment` and x402 (start.ts persists them in DATA_DIR); default in memory. */
  spentCharges?: ChargeSpender;
}

/** `incoming` is there when served by @hono/node-server; absent under `app.fetch(request)` in tests. */
type Env = {
  Bindings: Partial<HttpBindings>;
  Variables: { priceMsat?: number; paid?: boolean; rejected?: string; tokenId?: string };
};

/**
 * Builds the app.
 * @example const app = createApp({ config, backend, tokens, clock: Date.now, log: silentLogger });
 *          const res = await app.fetch(new Request('http://x/v1/pricing'));
 */
export function createApp(deps: AppDeps): Hono<Env> {
  const { config, log } = deps;
  const app = new Hono<Env>();
  const limits: VectorLimits = {
    maxDims: config.maxDims,
    maxVectors: config.maxVectors,
    maxBatchWork: config.maxBatchWork,
  };
  const gate: L402GateOptions = {
    service: { name: config.serviceName, tier: config.serviceTier },
    backend: withTimeouts(deps.backend, config.backendTimeoutMs),
    tokens: deps.tokens,
    now: deps.clock,
    tokenLifetimeSeconds: config.tokenLifetimeSeconds,
    invoiceExpirySeconds: config.invoiceExpirySeconds,
    lsatTwin: config.lsatTwin,
    challengeForm: config.challengeForm,
    location: config.serviceName,
    verified: createVerifiedCache(),
    mintLimit: createTokenBucket({
      burst: config.challengeBurst,
      perSecond: config.challengeRatePerSecond,
      now: deps.clock,
    }),
  };
  const paywall = deps.paywall ?? true;
  const schemes = authSchemeList(config.authSchemes);
  const spent = deps.spentCharges ?? memorySpentCharges(deps.clock);
  const caip2 = caip2Network(deps.network ?? null);
  // x402 names the chain by its CAIP-2 id (bip122:<genesis hash prefix>); a network without one cannot be offered.
  if (schemes.includes('x402') && !caip2)
    throw new Error(`AUTH_SCHEMES=${config.authSchemes} needs a Bitcoin network with a CAIP-2 id, not ${deps.network}`);
  const auth: AuthGateOptions = {
    schemes,
    invalidCredentialStatus: config.invalidCredentialStatus,
    l402: gate,
    payment: {
      secret: paymentChallengeKey(deps.tokens),
      realm: config.serviceName,
      backend: gate.backend,
      now: deps.clock,
      invoiceExpirySeconds: config.invoiceExpirySeconds,
      spent,
      network: deps.network ?? null,
    },
    x402: caip2
      ? {
          secret: x402OfferKey(deps.tokens),
          backend: gate.backend,
          now: deps.clock,
          invoiceExpirySeconds: config.invoiceExpirySeconds,
          spent,
          network: caip2,
        }
      : null,
  };

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    log({
      msg: 'request',
      method: c.req.method,
      route: c.req.path.slice(0, 200),
      status: c.res.status,
      price_msat: c.get('priceMsat') ?? null,
      paid: c.get('paid') ?? false,
      ...(c.get('rejected') ? { rejected: c.get('rejected') } : {}),
      ...(c.get('tokenId') ? { token: c.get('tokenId') } : {}),
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  });

  const origins = config.corsOrigins === '*' ? '*' : config.corsOrigins.split(',').map((o) => o.trim());
  app.use(
    '*',
    cors({
      origin: origins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      // x402's headers too: a page on another origin reads the offer and the settlement, and sends its payment.
      allowHeaders: ['Authorization', 'Content-Type', 'PAYMENT-SIGNATURE'],
      exposeHeaders: ['WWW-Authenticate', 'Retry-After', 'Payment-Receipt', 'PAYMENT-REQUIRED', 'PAYMENT-RESPONSE'],
      maxAge: 600,
    }),
  );

  app.onError((err, c) => {
    if (err instanceof ValidationError) {
      return c.json(
        { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
        400,
      );
    }
    if (err instanceof RequestError) return c.json(errorBody(err.code, err.message), err.status);
    // Never a stack trace to the client; the log keeps the detail.
    log({
      msg: 'error',
      route: c.req.path.slice(0, 200),
      error: errorMessage(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    return c.json(errorBody('internal', 'internal server error'), 500);
  });
  app.notFound((c) => c.json(errorBody('not_found', `no route ${c.req.method} ${c.req.path.slice(0, 200)}`), 404));

  app.get('/health', (c) => c.json({ status: 'ok', service: config.serviceName, backend: config.backend }));
  app.get('/v1/pricing', (c) => c.json(pricingDocument(config)));
  app.get('/.well-known/l402.json', (c) => c.json(discoveryDocument(config, deps.network ?? null)));
  // Loaded on first use: the demo pulls a bundler, which the API itself should not pay for at start-up.
  const demo = async (c: Context<Env>): Promise<Response> => (await import('./demo/index.ts')).demoResponse(c.req.path);
  app.get('/demo', demo);
  app.get('/demo/*', demo);

  const limitJson = bodyCap<Env>(config.maxBodyBytes, (c) =>
    c.json(errorBody('body_too_large', `request body exceeds ${config.maxBodyBytes} bytes`), 413),
  );
  const limitBinary = bodyCap<Env>(config.maxBinaryBodyBytes, (c) =>
    c.json(errorBody('body_too_large', `binary request body exceeds ${config.maxBinaryBodyBytes} bytes`), 413),
  );
  // Binary (float32) bodies have their own, larger cap: the same batch is ~5× smaller than as JSON.
  const limitBody: MiddlewareHandler<Env> = (c, next) =>
    (isF32BatchBody(c.req.header('content-type')) ? limitBinary : limitJson)(c, next);

  /**
   * Validate first (never charge for a request we would refuse), then the gate, then the work; `respond`
   * turns the result into the response (default: JSON).
   */
  async function paid<I, O extends object>(
    c: Context<Env>,
    read: () => I | Promise<I>,
    spec: (input: I) => PaidRouteSpec,
    run: (input: I) => O,
    respond: (input: I, output: O) => Response = (_, output) => c.json(output),
  ): Promise<Response> {
    const input = await read();
    const s = spec(input);
    c.set('priceMsat', s.priceMsat);
    if (paywall) {
      const verdict = await checkPaid(c.req.raw, s, auth, clientOf(c));
      if (verdict.kind === 'denied') {
        if (verdict.rejected) c.set('rejected', verdict.rejected.code);
        return verdict.response;
      }
      c.set('paid', true);
      c.set('tokenId', verdict.tokenId.slice(0, 16));
      const res = respond(input, run(input));
      for (const [k, v] of Object.entries(verdict.headers)) res.headers.set(k, v);
      return res;
    }
    return respond(input, run(input));
  }

  app.post('/v1/similarity', limitBody, (c) =>
    isF32BatchBody(c.req.header('content-type'))
      ? paid(
          c,
          async () => scoreBinaryPair(await readBytes(c), limits),
          () => pairSpec(config),
          (similarity) => ({ similarity }),
        )
      : paid(
          c,
          async () => parsePairInput(await readJson(c), limits),
          () => pairSpec(config),
          ({ a, b }) => ({ similarity: cosine(a, b) }),
        ),
  );
  // The same priced work as a GET (`?a=1,2,3&b=4,5,6`) so a browser can navigate to it: same validation codes,
  // price and `pair` capability, so a token bought through either method works for both (docs/design.md#the-extension navigations).
  app.get('/v1/similarity', pagesForBrowsers, (c) =>
    paid(
      c,
      () => parsePairQuery((name) => c.req.queries(name), limits),
      () => pairSpec(config),
      ({ a, b }) => ({ similarity: cosine(a, b) }),
      ({ a, b }, { similarity }) =>
        prefersHtml(c.req.header('accept'))
          ? new Response(similarityPage(a, b, similarity), { headers: HTML_HEADERS })
          : c.json({ similarity }),
    ),
  );
  app.post('/v1/similarity/batch', limitBody, (c) =>
    isF32BatchBody(c.req.header('content-type'))
      ? // Scored while validating (server/similarity/binary-body.ts); the gate then decides whether to answer.
        paid(
          c,
          async () => scoreBinaryBatch(await readBytes(c), limits),
          (i) => batchSpec(i.work, config),
          (i) => ({ results: selectTopK(i.scores, i.topK), dims: i.dims, count: i.count }),
        )
      : paid(
          c,
          async () => parseBatchInput(await readJson(c), limits),
          (i) => batchSpec(i.work, config),
          (i) => ({
            results: selectTopK(cosineBatch(i.query, i.matrix, i.count, new Float64Array(i.count)), i.topK),
            dims: i.dims,
            count: i.count,
          }),
        ),
  );
  return app;
}

/**
 * For a route that answers browsers with pages: JSON error answers (400 validation, 402 challenge, 503, …)
 * become HTML pages when the Accept prefers text/html. Status and the other headers (WWW-Authenticate,
 * Retry-After, Cache-Control) stay, so the extension still sees the 402 and its challenge.
 */
const pagesForBrowsers: MiddlewareHandler<Env> = async (c, next) => {
  await next();
  const res = c.res;
  if (!prefersHtml(c.req.header('accept'))) {
    res.headers.append('vary', 'Accept');
    return;
  }
  if (res.ok || !res.headers.get('content-type')?.startsWith('application/json')) return;
  const body: unknown = await res.json().catch(() => null);
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(HTML_HEADERS)) headers.set(k, v);
  // Assigning c.res merges the old response's headers into the new one except content-type; build it whole
  // and clear the old one first so HTML_HEADERS win.
  c.res = undefined;
  c.res = new Response(errorPage(res.status, body), { status: res.status, headers });
};

/** The client a rate limit counts against: the peer address (a proxy in front should set its own limits). */
function clientOf(c: Context<Env>): string {
  return c.env?.incoming?.socket.remoteAddress ?? 'local';
}

/** A request error with its own status (415 for a body that is not declared JSON). */
class RequestError extends Error {
  readonly status: 415;
  readonly code: string;
  constructor(status: 415, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `application/json`, optionally with `charset=utf-8` (JSON is UTF-8 only: RFC 8259 §8.1). */
function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [type = '', ...params] = value.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => !p.startsWith('charset=') || /^charset="?utf-8"?$/.test(p));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

async function readJson(c: Context<Env>): Promise<unknown> {
  if (!isJsonContentType(c.req.header('content-type'))) {
    throw new RequestError(415, 'unsupported_media_type', 'send the body as Content-Type: application/json');
  }
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  // RFC 8259 §8.1: JSON text is UTF-8 and must not begin with a byte order mark.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new ValidationError(
      'invalid_encoding',
      null,
      'request body starts with a byte order mark; send UTF-8 JSON without one',
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ValidationError('invalid_encoding', null, 'request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new ValidationError('invalid_json', null, 'request body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError('invalid_json', null, 'request body is not valid JSON');
  }
}
