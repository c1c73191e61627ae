// One typed server config from defaults ← optional JSON file (CONFIG_FILE) ← environment variables,
// validated at start-up with messages that name the variable.
import { readFileSync } from 'node:fs';
import { errorMessage } from '../src/util/error-message.ts';

/** A scheme a paid route can offer: L402 tokens, the `Payment` scheme's Lightning charge, x402's Lightning `exact`. */
export type AuthScheme = 'l402' | 'payment' | 'x402';
const AUTH_SCHEMES: readonly AuthScheme[] = ['l402', 'payment', 'x402'];
/** `AUTH_SCHEMES`: a comma list of distinct {@link AuthScheme}s (validated by {@link loadConfig}). */
export type AuthSchemesSetting =
  | AuthScheme
  | `${AuthScheme},${AuthScheme}`
  | `${AuthScheme},${AuthScheme},${AuthScheme}`;

/** The schemes of a validated `AUTH_SCHEMES` value, in the order given. */
export function authSchemeList(setting: AuthSchemesSetting): AuthScheme[] {
  return setting.split(',') as AuthScheme[];
}

/** The whole server configuration. Amounts are msat. */
export interface ServerConfig {
  port: number;
  host: string;
  /** Master secret, revocation list and dev-node state live here. */
  dataDir: string;
  backend: 'dev' | 'lnd';
  /** Network of the dev backend's invoices; mainnet is refused. */
  devNetwork: 'regtest' | 'testnet' | 'signet' | 'simnet' | 'mainnet';
  /** Starting balance of the dev wallet (dev money), in sat. */
  devWalletBalanceSat: number;
  lndRestUrl: string;
  lndTlsCertPath: string;
  lndMacaroonPath: string;
  /** Name in the `services=` caveat and discovery document. */
  serviceName: string;
  serviceTier: number;
  pairPriceMsat: number;
  batchBasePriceMsat: number;
  /** Batch price per 1000 units of work (vectors × dimensions), rounded up to whole sat with the base. */
  batchPricePerKiloWorkMsat: number;
  tokenLifetimeSeconds: number;
  invoiceExpirySeconds: number;
  maxBodyBytes: number;
  /** Body limit for binary (float32) batch bodies, which are far denser than JSON. */
  maxBinaryBodyBytes: number;
  maxDims: number;
  maxVectors: number;
  /** Upper bound on vectors × dimensions in one batch request. */
  maxBatchWork: number;
  backendTimeoutMs: number;
  /** Send an `LSAT` twin before the `L402` challenge (Aperture's habit) for old clients. */
  lsatTwin: boolean;
  challengeForm: 'classic' | 'revised';
  /** Which schemes a paid route offers: any of L402 tokens, the `Payment` charge and x402 Lightning, comma-separated. */
  authSchemes: AuthSchemesSetting;
  /** Status for a well-formed but invalid or expired credential: 401 (bLIP-0026) or 402 (Aperture's habit). */
  invalidCredentialStatus: number;
  /** `*` or a comma-separated list of allowed origins. */
  corsOrigins: string;
  /** Print one JSON line per request. */
  logRequests: boolean;
  /** Challenges (402s) one client may get at once, then `challengeRatePerSecond` more per second; 0 = no limit. */
  challengeBurst: number;
  challengeRatePerSecond: number;
  /** '' keeps revocations in DATA_DIR; `postgres://…` shares them (and spent charges) between instances. */
  sharedStoreUrl: string;
}

type Kind =
  | { t: 'int'; min: number; max: number }
  | { t: 'string'; nonEmpty?: boolean }
  | { t: 'bool' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'list'; values: readonly string[] };

interface Field<K extends keyof ServerConfig> {
  key: K;
  env: string;
  kind: Kind;
  def: ServerConfig[K];
  doc: string;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Kind => ({ t: 'int', min, max });
const f = <K extends keyof ServerConfig>(
  key: K,
  env: string,
  kind: Kind,
  def: ServerConfig[K],
  doc: string,
): Field<K> => ({
  key,
  env,
  kind,
  def,
  doc,
});

/** Every setting, its environment variable, default and meaning (the README table is generated from the same facts). */
const CONFIG_FIELDS = [
  f('port', 'PORT', int(0, 65535), 8402, 'TCP port (0 = any free port)'),
  f('host', 'HOST', { t: 'string', nonEmpty: true }, '127.0.0.1', 'interface to listen on'),
  f(
    'dataDir',
    'DATA_DIR',
    { t: 'string', nonEmpty: true },
    '.data/server',
    'master secret, revocations, dev node state',
  ),
  f('backend', 'BACKEND', { t: 'enum', values: ['dev', 'lnd'] }, 'dev', 'Lightning backend'),
  f(
    'devNetwork',
    'DEV_NETWORK',
    { t: 'enum', values: ['regtest', 'testnet', 'signet', 'simnet', 'mainnet'] },
    'regtest',
    'dev invoices network (mainnet refused)',
  ),
  f('devWalletBalanceSat', 'DEV_WALLET_BALANCE_SAT', int(0), 1_000_000, 'initial dev wallet balance (dev money)'),
  f('lndRestUrl', 'LND_REST_URL', { t: 'string' }, '', 'lnd REST URL, e.g. https://127.0.0.1:8080'),
  f('lndTlsCertPath', 'LND_TLS_CERT_PATH', { t: 'string' }, '', "path to lnd's tls.cert"),
  f('lndMacaroonPath', 'LND_MACAROON_PATH', { t: 'string' }, '', 'path to an invoice (or admin) macaroon'),
  f('serviceName', 'SERVICE_NAME', { t: 'string', nonEmpty: true }, 'similarity', 'service name in caveats'),
  f('serviceTier', 'SERVICE_TIER', int(0, 1000), 0, 'tier in the services caveat'),
  f('pairPriceMsat', 'PRICE_PAIR_MSAT', int(1000), 10_000, 'price of a pair token (msat)'),
  f('batchBasePriceMsat', 'PRICE_BATCH_BASE_MSAT', int(0), 10_000, 'fixed part of a batch token price (msat)'),
  f(
    'batchPricePerKiloWorkMsat',
    'PRICE_BATCH_PER_KWORK_MSAT',
    int(0),
    100,
    'batch price per 1000 × (vectors × dims) (msat)',
  ),
  f('tokenLifetimeSeconds', 'TOKEN_LIFETIME_SECONDS', int(1), 3600, 'token validity after minting'),
  f('invoiceExpirySeconds', 'INVOICE_EXPIRY_SECONDS', int(10), 600, 'invoice expiry'),
  f('maxBodyBytes', 'MAX_BODY_BYTES', int(1024), 8 * 1024 * 1024, 'request body limit'),
  f('maxBinaryBodyBytes', 'MAX_BINARY_BODY_BYTES', int(1024), 64 * 1024 * 1024, 'binary batch body limit'),
  f('maxDims', 'MAX_DIMS', int(1), 4096, 'max vector dimensions'),
  f('maxVectors', 'MAX_VECTORS', int(1), 10_000, 'max vectors per batch'),
  f('maxBatchWork', 'MAX_BATCH_WORK', int(1), 15_360_000, 'max vectors × dims per batch'),
  f('backendTimeoutMs', 'BACKEND_TIMEOUT_MS', int(10), 5000, 'Lightning backend call timeout'),
  f('lsatTwin', 'LSAT_TWIN', { t: 'bool' }, true, 'also send an LSAT challenge line'),
  f(
    'challengeForm',
    'CHALLENGE_FORM',
    { t: 'enum', values: ['classic', 'revised'] },
    'classic',
    'challenge parameter style',
  ),
  f(
    'authSchemes',
    'AUTH_SCHEMES',
    { t: 'list', values: AUTH_SCHEMES },
    'l402',
    'schemes offered: a comma list of l402, payment (Lightning charge), x402 (x402 Lightning)',
  ),
  f(
    'invalidCredentialStatus',
    'INVALID_CREDENTIAL_STATUS',
    int(401, 402),
    402,
    'status for a refused credential, with a fresh challenge',
  ),
  f('corsOrigins', 'CORS_ORIGINS', { t: 'string', nonEmpty: true }, '*', 'allowed origins (* or comma list)'),
  f('logRequests', 'LOG_REQUESTS', { t: 'bool' }, true, 'one JSON log line per request'),
  f('challengeBurst', 'CHALLENGE_BURST', int(0), 100, 'challenges one client may get at once (0 = no limit)'),
  f(
    'sharedStoreUrl',
    'SHARED_STORE_URL',
    { t: 'string' },
    '',
    "'' = files in DATA_DIR; postgres://user:pass@host:port/db shares state between instances",
  ),
  f(
    'challengeRatePerSecond',
    'CHALLENGE_RATE_PER_SECOND',
    int(0),
    20,
    'challenges per second per client after the burst (0 = no limit)',
  ),
] as const;

/** Thrown when the configuration is invalid; `problems` has one line per bad setting. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid server configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function coerce(kind: Kind, raw: unknown, where: string, problems: string[]): unknown {
  switch (kind.t) {
    case 'int': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
        problems.push(`${where} must be an integer in [${kind.min}, ${kind.max}], got ${JSON.stringify(raw)}`);
        return undefined;
      }
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      problems.push(`${where} must be true or false, got ${JSON.stringify(raw)}`);
      return undefined;
    }
    case 'enum':
      if (typeof raw === 'string' && kind.values.includes(raw)) return raw;
      problems.push(`${where} must be one of ${kind.values.join(', ')}, got ${JSON.stringify(raw)}`);
      return undefined;
    case 'list': {
      const items = typeof raw === 'string' ? raw.split(',').map((x) => x.trim()) : [];
      const bad = items.filter((x) => !kind.values.includes(x));
      if (items.length === 0 || bad.length > 0 || new Set(items).size !== items.length) {
        problems.push(
          `${where} must be a comma list of distinct values from ${kind.values.join(', ')}, got ${JSON.stringify(raw)}`,
        );
        return undefined;
      }
      return items.join(',');
    }
    case 'string':
      if (typeof raw !== 'string' || (kind.nonEmpty && raw.trim() === '')) {
        problems.push(`${where} must be a${kind.nonEmpty ? ' non-empty' : ''} string`);
        return undefined;
      }
      return raw;
  }
}

/** Sources for {@link loadConfig}; all optional so tests pass only what they need. */
export interface ConfigSources {
  env?: Record<string, string | undefined>;
  /** Parsed JSON file contents (keys as in {@link ServerConfig}); `CONFIG_FILE` in env is read when absent. */
  file?: Record<string, unknown>;
  overrides?: Partial<ServerConfig>;
  readFile?: (path: string) => string;
}

/**
 * Builds and validates the config: defaults ← file ← env ← overrides. Throws {@link ConfigError}.
 * @example const config = loadConfig({ env: process.env });
 */
export function loadConfig(src: ConfigSources = {}): ServerConfig {
  const env = src.env ?? {};
  const problems: string[] = [];
  let file = src.file;
  const path = env.CONFIG_FILE;
  if (!file && path) {
    try {
      const parsed: unknown = JSON.parse((src.readFile ?? ((p) => readFileSync(p, 'utf8')))(path));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      file = parsed as Record<string, unknown>;
    } catch (e) {
      problems.push(`CONFIG_FILE ${path}: ${errorMessage(e)}`);
    }
  }
  const known = new Set<string>(CONFIG_FIELDS.map((x) => x.key));
  for (const k of Object.keys(file ?? {})) if (!known.has(k)) problems.push(`config file: unknown setting "${k}"`);

  const out: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    let value: unknown = field.def;
    if (file && field.key in file) value = coerce(field.kind, file[field.key], `config file "${field.key}"`, problems);
    const fromEnv = env[field.env];
    if (fromEnv !== undefined && fromEnv !== '') value = coerce(field.kind, fromEnv, field.env, problems);
    const o = src.overrides?.[field.key];
    if (o !== undefined) value = coerce(field.kind, o, `override ${field.key}`, problems);
    out[field.key] = value;
  }
  const config = out as unknown as ServerConfig; // every key filled above from CONFIG_FIELDS
  if (config.backend === 'lnd') {
    if (!config.lndRestUrl) problems.push('BACKEND=lnd needs LND_REST_URL (e.g. https://127.0.0.1:8080)');
    if (!config.lndTlsCertPath) problems.push("BACKEND=lnd needs LND_TLS_CERT_PATH (lnd's tls.cert)");
    if (!config.lndMacaroonPath)
      problems.push('BACKEND=lnd needs LND_MACAROON_PATH (invoice.macaroon or admin.macaroon)');
  }
  if (config.corsOrigins !== '*') {
    for (const o of config.corsOrigins.split(',')) {
      if (!/^https?:\/\/[^/\s]+$|^(chrome|moz)-extension:\/\/[^/\s]+$/.test(o.trim())) {
        problems.push(`CORS_ORIGINS: "${o.trim()}" is not an origin like https://example.com`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
