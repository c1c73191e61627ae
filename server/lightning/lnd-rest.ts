// Small typed client for lnd's REST API (lnd 0.21). Uses node:https because lnd serves
// a self-signed cert and Node's global fetch cannot take a CA without undici.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

interface LndRestConfig {
  url: string;
  macaroonHex: string;
  tlsCertPem: string | Uint8Array;
  timeoutMs?: number;
}

type LndErrorCode = 'unreachable' | 'timeout' | 'http' | 'bad_response' | 'invalid_argument';

/** Every failure of this client. `status` is the HTTP status when lnd answered. */
export class LndError extends Error {
  readonly code: LndErrorCode;
  readonly status: number | undefined;
  constructor(code: LndErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'LndError';
    this.code = code;
    this.status = status;
  }
}

export type InvoiceState = 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED';
export type LndPaymentStatus = 'SUCCEEDED' | 'FAILED' | 'IN_FLIGHT' | 'INITIATED';

interface LndInfo {
  identityPubkey: string;
  alias: string;
  blockHeight: number;
  blockHash: string;
  syncedToChain: boolean;
  syncedToGraph: boolean;
  network: string;
  numActiveChannels: number;
  numPeers: number;
}

export interface LndInvoice {
  state: InvoiceState;
  paymentHash: string;
  preimageHex: string | null;
  amountPaidMsat: number;
  valueMsat: number;
  memo: string;
  paymentRequest: string;
  creationDate: number;
  settleDate: number | null;
  expiry: number;
  addIndex: string;
  /** A keysend (spontaneous) payment rather than a payment of this invoice's request. */
  isKeysend: boolean;
  /** TLV records the payer sent with its HTLCs (type → hex value), e.g. a keysend message. */
  customRecords: Record<string, string>;
}

export interface LndPayment<S extends LndPaymentStatus = LndPaymentStatus> {
  status: S;
  paymentHash: string;
  preimageHex: string | null;
  valueMsat: number;
  feeMsat: number;
  /** lnd's failure reason without the FAILURE_REASON_ prefix, null when none. */
  failureReason: string | null;
  paymentRequest: string;
  creationTimeSec: number;
  /** Hop pubkeys of the succeeded HTLC routes (last one is the destination). */
  hops: string[][];
}

interface PayInvoiceArgs {
  paymentRequest: string;
  feeLimitSat: number;
  timeoutSeconds?: number;
  /** Only for zero-amount invoices. */
  amountMsat?: number;
  /** Restrict the first hop to these channel ids (routing tests). */
  outgoingChanIds?: string[];
  /** Force the last hop before the destination. */
  lastHopPubkey?: string;
  maxParts?: number;
}

/** Spontaneous payment to a node (no invoice): the receiver learns the preimage from a TLV record. */
interface KeysendArgs {
  destinationHex: string;
  amountMsat: number;
  /** 32 bytes hex; the payment hash is its sha256. */
  preimageHex: string;
  /** Extra TLV records (type → hex value); type 5482373484 (the preimage) is ours. */
  customRecords?: Record<string, string>;
  feeLimitSat: number;
  timeoutSeconds?: number;
}

/** TLV type lnd reads a keysend preimage from. */
const KEYSEND_PREIMAGE_RECORD = '5482373484';

/** Reads tls.cert and the regtest admin.macaroon from an lnd data dir. */
export function lndConfigFromDir(url: string, lnddir: string): LndRestConfig {
  return {
    url,
    tlsCertPem: readFileSync(join(lnddir, 'tls.cert')),
    macaroonHex: readFileSync(join(lnddir, 'data/chain/bitcoin/regtest/admin.macaroon')).toString('hex'),
  };
}

// --- JSON helpers: lnd sends int64 as strings and bytes as standard base64 ---

type Json = Record<string, unknown>;

export function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new LndError('bad_response', `${what}: not an object`);
  return v as Json;
}
export function str(o: Json, k: string): string {
  const v = o[k];
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new LndError('bad_response', `field ${k}: not a string`);
}
export function num(o: Json, k: string): number {
  const s = str(o, k);
  if (s === '') return 0;
  const n = Number(s);
  if (!Number.isFinite(n)) throw new LndError('bad_response', `field ${k}: not a number`);
  return n;
}
export function bool(o: Json, k: string): boolean {
  return o[k] === true;
}
export function arr(o: Json, k: string): unknown[] {
  const v = o[k];
  return Array.isArray(v) ? v : [];
}
function b64ToHex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}
function pubkeyBytes(hex: string): Buffer {
  if (!/^0[23][0-9a-f]{64}$/i.test(hex))
    throw new LndError('invalid_argument', `not a compressed node public key: ${hex}`);
  return Buffer.from(hex, 'hex');
}
function hashBytes(hex: string): Buffer {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new LndError('bad_response', `not a 32-byte hex hash: ${hex}`);
  return Buffer.from(hex, 'hex');
}
/**
 * Bytes in query/path: grpc-gateway accepts standard or *padded* URL-safe base64; a '/' would
 * break path routing, so use padded URL-safe.
 */
function hashParam(hex: string): string {
  return encodeURIComponent(hashBytes(hex).toString('base64').replace(/\+/g, '-').replace(/\//g, '_'));
}
function emptyToNull(hex: string): string | null {
  return hex === '' || /^0+$/.test(hex) ? null : hex;
}

function parseInvoice(o: Json): LndInvoice {
  const state = str(o, 'state');
  if (state !== 'OPEN' && state !== 'SETTLED' && state !== 'CANCELED' && state !== 'ACCEPTED') {
    throw new LndError('bad_response', `unknown invoice state ${state}`);
  }
  const settleDate = num(o, 'settle_date');
  return {
    state,
    paymentHash: b64ToHex(str(o, 'r_hash')),
    preimageHex: state === 'SETTLED' ? emptyToNull(b64ToHex(str(o, 'r_preimage'))) : null,
    amountPaidMsat: num(o, 'amt_paid_msat'),
    valueMsat: num(o, 'value_msat'),
    memo: str(o, 'memo'),
    paymentRequest: str(o, 'payment_request'),
    creationDate: num(o, 'creation_date'),
    settleDate: settleDate > 0 ? settleDate : null,
    expiry: num(o, 'expiry'),
    addIndex: str(o, 'add_index'),
    isKeysend: bool(o, 'is_keysend'),
    customRecords: htlcRecords(o),
  };
}

function htlcRecords(o: Json): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of arr(o, 'htlcs')) {
    const records = obj(h, 'htlc').custom_records;
    if (records === undefined || records === null) continue;
    for (const [type, b64] of Object.entries(obj(records, 'custom_records'))) {
      if (typeof b64 === 'string') out[type] = b64ToHex(b64);
    }
  }
  return out;
}

function parsePayment(o: Json): LndPayment {
  const status = str(o, 'status');
  if (status !== 'SUCCEEDED' && status !== 'FAILED' && status !== 'IN_FLIGHT' && status !== 'INITIATED') {
    throw new LndError('bad_response', `unknown payment status ${status}`);
  }
  const reason = str(o, 'failure_reason').replace(/^FAILURE_REASON_/, '');
  const hops: string[][] = [];
  for (const h of arr(o, 'htlcs')) {
    const htlc = obj(h, 'htlc');
    if (str(htlc, 'status') !== 'SUCCEEDED') continue;
    const route = obj(htlc.route ?? {}, 'route');
    hops.push(arr(route, 'hops').map((hop) => str(obj(hop, 'hop'), 'pub_key')));
  }
  return {
    status,
    paymentHash: str(o, 'payment_hash'),
    preimageHex: status === 'SUCCEEDED' ? emptyToNull(str(o, 'payment_preimage')) : null,
    valueMsat: num(o, 'value_msat'),
    feeMsat: num(o, 'fee_msat'),
    failureReason: reason === '' || reason === 'NONE' ? null : reason,
    paymentRequest: str(o, 'payment_request'),
    creationTimeSec: Math.floor(num(o, 'creation_time_ns') / 1e9),
    hops,
  };
}

interface RawResponse {
  status: number;
  body: string;
}

export class LndRest {
  readonly url: URL;
  private readonly cfg: LndRestConfig;
  private readonly timeoutMs: number;

  constructor(cfg: LndRestConfig) {
    this.cfg = cfg;
    this.url = new URL(cfg.url);
    this.timeoutMs = cfg.timeoutMs ?? 15_000;
  }

  /**
   * One HTTPS round trip. `firstLine` resolves on the first complete NDJSON line of a
   * streaming response and aborts the rest (lnd's streams never end on their own).
   */
  private raw(method: string, path: string, body: unknown, timeoutMs: number, firstLine = false): Promise<RawResponse> {
    const signal = AbortSignal.timeout(timeoutMs);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      const done = (err: LndError | null, res?: RawResponse): void => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else if (res) resolve(res);
      };
      const req = request(
        {
          protocol: 'https:',
          hostname: this.url.hostname,
          port: this.url.port,
          path,
          method,
          ca: typeof this.cfg.tlsCertPem === 'string' ? this.cfg.tlsCertPem : Buffer.from(this.cfg.tlsCertPem),
          headers: {
            'Grpc-Metadata-macaroon': this.cfg.macaroonHex,
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          },
          signal,
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            data += chunk;
            const nl = data.indexOf('\n');
            if (firstLine && nl >= 0) {
              done(null, { status: res.statusCode ?? 0, body: data.slice(0, nl) });
              req.destroy();
            }
          });
          res.on('end', () => done(null, { status: res.statusCode ?? 0, body: data }));
          res.on('error', (e) => {
            if (signal.aborted)
              done(new LndError('timeout', `${method} ${path}: no complete answer within ${timeoutMs} ms`));
            else done(new LndError('unreachable', `${method} ${path}: ${e.message}`));
          });
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (signal.aborted) done(new LndError('timeout', `${method} ${path}: no answer within ${timeoutMs} ms`));
        else done(new LndError('unreachable', `${method} ${path}: ${e.code ?? ''} ${e.message}`.trim()));
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** JSON call; non-2xx answers become LndError('http') carrying lnd's message. */
  protected async call(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = this.timeoutMs,
    stream = false,
  ): Promise<Json> {
    const res = await this.raw(method, path, body, timeoutMs, stream);
    let parsed: unknown;
    try {
      parsed = res.body.trim() === '' ? {} : JSON.parse(res.body);
    } catch {
      throw new LndError(
        'bad_response',
        `${method} ${path}: HTTP ${res.status}, not JSON: ${res.body.slice(0, 200)}`,
        res.status,
      );
    }
    const o = obj(parsed, `${method} ${path}`);
    // Streams wrap messages as {result} / {error}; an error may come with HTTP 200.
    const err = o.error !== undefined ? obj(o.error, 'error') : res.status >= 300 ? o : undefined;
    if (err) {
      const status = res.status >= 300 ? res.status : num(err, 'http_code') || 500;
      throw new LndError(
        'http',
        `${method} ${path}: HTTP ${status}: ${str(err, 'message') || res.body.slice(0, 200)}`,
        status,
      );
    }
    return o.result !== undefined ? obj(o.result, 'result') : o;
  }

  async state(): Promise<string> {
    return str(await this.call('GET', '/v1/state'), 'state');
  }

  async getInfo(): Promise<LndInfo> {
    const o = await this.call('GET', '/v1/getinfo');
    const chain = arr(o, 'chains')[0];
    return {
      identityPubkey: str(o, 'identity_pubkey'),
      alias: str(o, 'alias'),
      blockHeight: num(o, 'block_height'),
      blockHash: str(o, 'block_hash'),
      syncedToChain: bool(o, 'synced_to_chain'),
      syncedToGraph: bool(o, 'synced_to_graph'),
      network: chain ? str(obj(chain, 'chain'), 'network') : '',
      numActiveChannels: num(o, 'num_active_channels'),
      numPeers: num(o, 'num_peers'),
    };
  }

  async addInvoice(a: { valueMsat: number; memo?: string; expirySeconds?: number }): Promise<{
    paymentHash: string;
    paymentRequest: string;
    addIndex: string;
  }> {
    const o = await this.call('POST', '/v1/invoices', {
      value_msat: String(a.valueMsat),
      memo: a.memo ?? '',
      ...(a.expirySeconds === undefined ? {} : { expiry: String(a.expirySeconds) }),
    });
    return {
      paymentHash: b64ToHex(str(o, 'r_hash')),
      paymentRequest: str(o, 'payment_request'),
      addIndex: str(o, 'add_index'),
    };
  }

  /** Throws LndError('http', status 404) for an unknown hash. */
  async lookupInvoice(paymentHashHex: string): Promise<LndInvoice> {
    return parseInvoice(await this.call('GET', `/v2/invoices/lookup?payment_hash=${hashParam(paymentHashHex)}`));
  }

  /** Pays and waits for the final outcome (SendPaymentV2 without in-flight updates). */
  async payInvoice(a: PayInvoiceArgs): Promise<LndPayment<'SUCCEEDED' | 'FAILED'>> {
    return this.sendPayment(
      {
        payment_request: a.paymentRequest,
        fee_limit_sat: String(a.feeLimitSat),
        ...(a.amountMsat === undefined ? {} : { amt_msat: String(a.amountMsat) }),
        ...(a.outgoingChanIds ? { outgoing_chan_ids: a.outgoingChanIds } : {}),
        ...(a.lastHopPubkey ? { last_hop_pubkey: Buffer.from(a.lastHopPubkey, 'hex').toString('base64') } : {}),
        ...(a.maxParts === undefined ? {} : { max_parts: a.maxParts }),
      },
      a.timeoutSeconds ?? 60,
    );
  }

  /** SendPaymentV2 without in-flight updates: one final SUCCEEDED or FAILED payment. */
  private async sendPayment(
    body: Record<string, unknown>,
    timeoutSeconds: number,
  ): Promise<LndPayment<'SUCCEEDED' | 'FAILED'>> {
    const o = await this.call(
      'POST',
      '/v2/router/send',
      { ...body, timeout_seconds: timeoutSeconds, no_inflight_updates: true },
      timeoutSeconds * 1000 + 10_000,
      true,
    );
    const p = parsePayment(o);
    if (p.status !== 'SUCCEEDED' && p.status !== 'FAILED') {
      throw new LndError('bad_response', `payment ${p.paymentHash} ended as ${p.status}`);
    }
    return { ...p, status: p.status };
  }

  /** Keysend, waiting for the final outcome (SendPaymentV2 with `dest` and the preimage record). */
  async keysend(a: KeysendArgs): Promise<LndPayment<'SUCCEEDED' | 'FAILED'>> {
    if (!/^[0-9a-f]{64}$/i.test(a.preimageHex))
      throw new LndError('invalid_argument', 'keysend preimage must be 32 bytes hex');
    const preimage = Buffer.from(a.preimageHex, 'hex');
    const records: Record<string, string> = {};
    for (const [type, hex] of Object.entries(a.customRecords ?? {})) {
      if (!/^\d+$/.test(type) || type === KEYSEND_PREIMAGE_RECORD)
        throw new LndError('invalid_argument', `invalid TLV record type ${type}`);
      if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new LndError('invalid_argument', `TLV record ${type} is not hex`);
      records[type] = Buffer.from(hex, 'hex').toString('base64');
    }
    records[KEYSEND_PREIMAGE_RECORD] = preimage.toString('base64');
    return this.sendPayment(
      {
        dest: pubkeyBytes(a.destinationHex).toString('base64'),
        amt_msat: String(a.amountMsat),
        payment_hash: createHash('sha256').update(preimage).digest('base64'),
        dest_custom_records: records,
        fee_limit_sat: String(a.feeLimitSat),
      },
      a.timeoutSeconds ?? 60,
    );
  }

  /** Signs `message` (UTF-8) with the node key: lnd's zbase32 signature, verifiable with {@link verifyMessage}. */
  async signMessage(message: string): Promise<string> {
    const o = await this.call('POST', '/v1/signmessage', { msg: Buffer.from(message, 'utf8').toString('base64') });
    return str(o, 'signature');
  }

  /** Recovers the signer of a {@link signMessage} signature; `valid` means it is a node in this node's graph. */
  async verifyMessage(message: string, signature: string): Promise<{ valid: boolean; pubkey: string }> {
    const o = await this.call('POST', '/v1/verifymessage', {
      msg: Buffer.from(message, 'utf8').toString('base64'),
      signature,
    });
    return { valid: bool(o, 'valid'), pubkey: str(o, 'pubkey') };
  }

  /** Current state of an outgoing payment; null when the node never saw it. */
  async trackPayment(paymentHashHex: string): Promise<LndPayment | null> {
    try {
      const o = await this.call(
        'GET',
        `/v2/router/track/${hashParam(paymentHashHex)}`,
        undefined,
        this.timeoutMs,
        true,
      );
      return parsePayment(o);
    } catch (e) {
      if (
        e instanceof LndError &&
        e.code === 'http' &&
        (e.status === 404 || /not.*(initiated|found)/i.test(e.message))
      ) {
        return null;
      }
      throw e;
    }
  }

  async channelBalance(): Promise<{ localMsat: number; remoteMsat: number }> {
    const o = await this.call('GET', '/v1/balance/channels');
    return {
      localMsat: num(obj(o.local_balance ?? {}, 'local_balance'), 'msat'),
      remoteMsat: num(obj(o.remote_balance ?? {}, 'remote_balance'), 'msat'),
    };
  }

  /** Newest first. */
  async listPayments(max = 100): Promise<LndPayment[]> {
    const o = await this.call('GET', `/v1/payments?include_incomplete=true&reversed=true&max_payments=${max}`);
    return arr(o, 'payments')
      .map((p) => parsePayment(obj(p, 'payment')))
      .reverse();
  }

  /** Newest first. */
  async listInvoices(max = 100): Promise<LndInvoice[]> {
    const o = await this.call('GET', `/v1/invoices?reversed=true&num_max_invoices=${max}`);
    return arr(o, 'invoices')
      .map((i) => parseInvoice(obj(i, 'invoice')))
      .reverse();
  }
}
