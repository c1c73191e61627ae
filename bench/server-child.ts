// The server under test, in its own process so autocannon's load generation does not share its event
// loop. Prints one JSON line: {url, authorization}; `authorization` is a paid pair token when gated.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseL402Challenge } from '../src/l402/index.ts';
import { startServer } from '../server/start.ts';

const paywall = process.argv[2] !== 'free';
const s = await startServer({
  config: { dataDir: mkdtempSync(join(tmpdir(), 'l402-bench-')), logRequests: false, maxDims: 4096, challengeBurst: 0 },
  paywall,
});
let authorization: string | null = null;
if (paywall) {
  const res = await fetch(`${s.url}/v1/similarity`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: [1], b: [1] }),
  });
  const c = parseL402Challenge(res.headers.get('www-authenticate') ?? '');
  authorization = `L402 ${c.macaroon}:${await s.devWallet!.pay(c.invoice)}`;
}
process.stdout.write(`${JSON.stringify({ url: s.url, authorization })}\n`);
process.on('SIGTERM', () => {
  s.close().then(() => process.exit(0));
});
