// Test fixtures for the server's unit tests: an app over a temp data dir with the real dev backend,
// dev wallet and token files, a controllable clock, and request helpers. Not a test file itself.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseL402Challenge } from '../../src/l402/index.ts';
import { createApp } from '../../server/app.ts';
import { loadConfig, type ServerConfig } from '../../server/config.ts';
import type { LightningBackend } from '../../server/lightning/backend.ts';
import { type DevBackend, openDevBackend } from '../../server/lightning/dev-backend.ts';
import { type DevWallet, openDevWallet } from '../../server/lightning/dev-wallet.ts';
import { type LogEntry, silentLogger } from '../../server/log.ts';
import type { TokenAuthority } from '../../server/tokens/token-authority.ts';
import { openTokenAuthority } from '../../server/tokens/token-files.ts';
import type { ChargeSpender } from '../../server/gate/spent-charges.ts';

export const BASE = 'http://server.test';

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'l402-server-'));
}

export interface Fixture {
  app: ReturnType<typeof createApp>;
  config: ServerConfig;
  dev: DevBackend;
  wallet: DevWallet;
  clock: { now: number };
  logs: LogEntry[];
  dataDir: string;
  tokens: TokenAuthority;
}

/** A full app over `dataDir` (fresh by default); `backend` replaces the dev node for the gate. */
export function fixture(
  o: {
    dataDir?: string;
    config?: Partial<ServerConfig>;
    backend?: LightningBackend;
    nowMs?: number;
    spentCharges?: ChargeSpender;
  } = {},
): Fixture {
  const dataDir = o.dataDir ?? tempDir();
  const config = loadConfig({ overrides: { dataDir, logRequests: false, ...o.config } });
  const clock = { now: o.nowMs ?? Date.now() };
  const dev = openDevBackend({ dataDir, network: 'regtest', now: () => clock.now });
  const wallet = openDevWallet({ dataDir, node: dev, initialBalanceSat: 1_000_000, now: () => clock.now });
  const logs: LogEntry[] = [];
  const tokens = openTokenAuthority(dataDir);
  const app = createApp({
    config,
    backend: o.backend ?? dev,
    tokens,
    clock: () => clock.now,
    log: (e) => {
      logs.push(e);
      silentLogger(e);
    },
    network: 'regtest',
    ...(o.spentCharges ? { spentCharges: o.spentCharges } : {}),
  });
  return { app, config, dev, wallet, clock, logs, dataDir, tokens };
}

export function post(
  app: Fixture['app'],
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.fetch(
      new Request(`${BASE}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    ),
  );
}

export const PAIR = { a: [1, 2, 3], b: [2, 4, 6.5] };

/** The same `Authorization` with its preimage's last hex digit changed: always a different, wrong preimage. */
export function wrongPreimage(authorization: string): string {
  const last = authorization.slice(-1);
  return `${authorization.slice(0, -1)}${last === '0' ? '1' : '0'}`;
}

/** Gets a 402 for `path`/`body`, pays it with the dev wallet, and returns the credential header. */
export async function buyToken(
  f: Fixture,
  path = '/v1/similarity',
  body: unknown = PAIR,
): Promise<{ authorization: string; macaroon: string; preimage: string }> {
  const res = await post(f.app, path, body);
  if (res.status !== 402) throw new Error(`expected 402, got ${res.status}: ${await res.text()}`);
  const challenge = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
  const preimage = await f.wallet.pay(challenge.invoice);
  return { authorization: `L402 ${challenge.macaroon}:${preimage}`, macaroon: challenge.macaroon, preimage };
}
