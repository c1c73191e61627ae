import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, PAIR, post } from '../../test/support/server-fixtures.ts';
import { BackendUnavailableError } from './backend.ts';
import { lndBackend } from './lnd-backend.ts';
import { LndRest } from './lnd-rest.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A TCP port that accepts connections and never answers (a hung lnd). */
async function silentPort(): Promise<number> {
  const s = createServer(() => {});
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const rest = (port: number): LndRest =>
  new LndRest({ url: `https://127.0.0.1:${port}`, macaroonHex: '00', tlsCertPem: 'unused', timeoutMs: 300 });

describe('lnd backend failure modes', () => {
  it('maps a refused connection to BackendUnavailableError', async () => {
    const b = lndBackend(rest(await closedPort()));
    await expect(b.createInvoice(1000, 'x', 60)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(b.getInfo()).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it('answers 503 + Retry-After when lnd hangs, without waiting for it', async () => {
    const f = fixture({ backend: lndBackend(rest(await silentPort())), config: { backendTimeoutMs: 200 } });
    const res = await post(f.app, '/v1/similarity', PAIR);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
  });
});
