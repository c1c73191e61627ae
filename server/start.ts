// Starts the HTTP server on a socket: used by main.ts (`npm start`), the benchmark, and the regtest /
// e2e tests (`startServer({ config: { port: 0 }, backend })`).
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { createApp } from './app.ts';
import { separateChallengeLines } from './challenge-lines.ts';
import { installClientErrorHandler } from './client-errors.ts';
import { loadConfig, type ServerConfig } from './config.ts';
import { type LightningBackend, withTimeouts } from './lightning/backend.ts';
import { openSpentCharges, sharedSpentCharges } from './gate/spent-charges.ts';
import { type DevBackend, openDevBackend } from './lightning/dev-backend.ts';
import { type DevWallet, openDevWallet } from './lightning/dev-wallet.ts';
import { lndBackendFromFiles } from './lightning/lnd-backend.ts';
import { jsonLogger, type Logger, silentLogger } from './log.ts';
import { openPostgresSharedStore, type SharedStore } from './tokens/shared-store.ts';
import { createTokenAuthority, type TokenAuthority } from './tokens/token-authority.ts';
import { loadOrCreateMasterSecret, openTokenAuthority } from './tokens/token-files.ts';
import { errorMessage } from '../src/util/error-message.ts';

/** Options for {@link startServer}; everything optional. */
interface StartServerOptions {
  /** Settings on top of `env` (tests: `{ port: 0, dataDir: tmp }`). */
  config?: Partial<ServerConfig>;
  /** Environment variables to read (default: none, so tests are hermetic; main.ts passes process.env). */
  env?: Record<string, string | undefined>;
  /** Use this backend instead of the configured one (e.g. an lnd backend for alice in regtest tests). */
  backend?: LightningBackend;
  /** Default: JSON lines on stdout when `logRequests`, else silent. */
  log?: Logger;
  /** Unix ms. */
  clock?: () => number;
  /** false: serve paid routes for free (benchmark baseline only). */
  paywall?: boolean;
}

/** A running server. */
export interface RunningServer {
  /** e.g. http://127.0.0.1:43121 (no trailing slash). */
  url: string;
  port: number;
  config: ServerConfig;
  app: Hono;
  backend: LightningBackend;
  tokens: TokenAuthority;
  /** The PostgreSQL store when SHARED_STORE_URL is set, else null (files in DATA_DIR). */
  sharedStore: SharedStore | null;
  /** The embedded dev node and its wallet when the dev backend is in use (and no `backend` was passed). */
  devBackend: DevBackend | null;
  devWallet: DevWallet | null;
  /** Network shown in discovery (null when the backend could not be asked). */
  network: string | null;
  close(): Promise<void>;
}

/**
 * Builds config, backend and tokens, and listens. Throws ConfigError / DevMainnetRefusedError on bad setup.
 * @example const s = await startServer({ config: { port: 0, dataDir } }); await fetch(`${s.url}/health`); await s.close();
 */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const env = opts.env ?? {};
  const config = loadConfig({ env, overrides: { ...(env.PORT === undefined ? { port: 0 } : {}), ...opts.config } });
  const log = opts.log ?? (config.logRequests ? jsonLogger() : silentLogger);
  const clock = opts.clock ?? Date.now;

  let devBackend: DevBackend | null = null;
  let devWallet: DevWallet | null = null;
  let backend: LightningBackend;
  if (opts.backend) {
    backend = opts.backend;
  } else if (config.backend === 'dev') {
    devBackend = openDevBackend({ dataDir: config.dataDir, network: config.devNetwork, now: clock });
    devWallet = openDevWallet({
      dataDir: config.dataDir,
      node: devBackend,
      initialBalanceSat: config.devWalletBalanceSat,
      now: clock,
    });
    backend = devBackend;
  } else {
    backend = lndBackendFromFiles({
      restUrl: config.lndRestUrl,
      tlsCertPath: config.lndTlsCertPath,
      macaroonPath: config.lndMacaroonPath,
      timeoutMs: config.backendTimeoutMs,
    });
  }

  let network: string | null = null;
  try {
    network = (await withTimeouts(backend, config.backendTimeoutMs).getInfo()).network || null;
  } catch (e) {
    // Start anyway: paid routes answer 503 until the node is back (never a crash).
    log({ msg: 'backend_unavailable_at_start', error: errorMessage(e) });
  }

  // Throws when the database cannot be reached: better not to start than to serve tokens revoked elsewhere.
  const sharedStore = config.sharedStoreUrl ? await openPostgresSharedStore(config.sharedStoreUrl, { log }) : null;
  const tokens = sharedStore
    ? createTokenAuthority({
        masterSecret: loadOrCreateMasterSecret(config.dataDir),
        revocations: sharedStore.revocations,
      })
    : openTokenAuthority(config.dataDir);
  const spentCharges = sharedStore ? sharedSpentCharges(sharedStore) : openSpentCharges(config.dataDir, clock);
  const app = createApp({ config, backend, tokens, clock, log, network, paywall: opts.paywall ?? true, spentCharges });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: separateChallengeLines(app.fetch), port: config.port, hostname: config.host }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
  installClientErrorHandler(server, log);
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closed = false;
  return {
    url: `http://${host}:${port}`,
    port,
    config,
    app: app as unknown as Hono, // widen the Variables type for callers
    backend,
    tokens,
    sharedStore,
    devBackend,
    devWallet,
    network,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeAllConnections' in server) server.closeAllConnections();
      });
      devBackend?.flush();
      await sharedStore?.close();
    },
  };
}
