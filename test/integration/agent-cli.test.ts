// The agent CLI and MCP server on the regtest network: real payments from bob (over NWC) to alice's lnd, through
// `bin/l402-autopilot.js` run as child processes sharing one data directory.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lndConfigFromDir } from '../../server/lightning/lnd-rest.ts';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { type RunningServer, startServer } from '../../server/start.ts';
import type { PaymentRecord } from '../../src/extension/model/model.ts';
import { decodeMacaroon, formatL402Challenge, mintMacaroon, parseAuthorization } from '../../src/l402/index.ts';
import { lnd, regtest } from './regtest-context.ts';

const BIN = join(import.meta.dirname, '../../bin/l402-autopilot.js');
const similarityBody = JSON.stringify({ a: [1, 0, 1], b: [1, 1, 0] });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(home: string, args: string[]): { proc: ChildProcess; done: Promise<Run> } {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, L402_AUTOPILOT_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout?.on('data', (d) => {
    stdout += d;
  });
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Run>((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { proc, done };
}
const run = (home: string, ...args: string[]) => cli(home, args).done;
const json = <T>(r: Run): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
};
async function ledger(home: string): Promise<PaymentRecord[]> {
  const r = await run(home, 'payments', '--json');
  expect(r.code, r.stderr).toBe(0);
  return json<PaymentRecord[]>(r);
}

/** One of alice's lnd REST calls the LndRest class does not wrap (hold invoices). */
function aliceRaw(path: string, body: unknown): Promise<unknown> {
  const n = regtest().nodes.alice;
  const cfg = lndConfigFromDir(n.restUrl, n.lnddir);
  const url = new URL(cfg.url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        hostname: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        ca: Buffer.from(cfg.tlsCertPem),
        headers: { 'Grpc-Metadata-macaroon': cfg.macaroonHex, 'content-type': 'application/json' },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(data))
            : reject(new Error(`lnd ${path}: ${res.statusCode} ${data}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * A priced test service: every path /item/N costs 10 sats with a token scoped to that path only (so each path
 * needs its own payment), and /hold/N answers with a HOLD invoice that stays in flight until the test settles it.
 */
async function startItemService(): Promise<{ url: string; holds: Map<string, Buffer>; close: () => Promise<void> }> {
  const alice = lnd('alice');
  const rootKey = randomBytes(32);
  const holds = new Map<string, Buffer>(); // path → preimage
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const auth = req.headers.authorization;
      if (auth) {
        const { macaroons, preimage } = parseAuthorization(auth);
        const m = decodeMacaroon(macaroons[0]!);
        const scoped = m.caveats.includes(`path=${path}`);
        if (scoped && createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex') === m.paymentHash) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, path }));
          return;
        }
      }
      let paymentHash: string;
      let invoice: string;
      if (path.startsWith('/hold/')) {
        const preimage = randomBytes(32);
        const hash = createHash('sha256').update(preimage).digest();
        const added = (await aliceRaw('/v2/invoices/hodl', {
          hash: hash.toString('base64'),
          value_msat: '10000',
          expiry: '600',
        })) as {
          payment_request: string;
        };
        holds.set(path, preimage);
        paymentHash = hash.toString('hex');
        invoice = added.payment_request;
      } else {
        const added = await alice.addInvoice({ valueMsat: 10_000, memo: `item ${path}` });
        paymentHash = added.paymentHash;
        invoice = added.paymentRequest;
      }
      const macaroon = mintMacaroon({
        rootKey,
        paymentHash: Buffer.from(paymentHash, 'hex'),
        tokenId: randomBytes(32),
        caveats: [`path=${path}`],
      });
      res.writeHead(402, { 'www-authenticate': formatL402Challenge({ macaroon, invoice }) }).end();
    })().catch((e: unknown) => {
      res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holds,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('l402-autopilot CLI and MCP server on regtest', () => {
  let server: RunningServer;
  let serverDir: string;
  let items: Awaited<ReturnType<typeof startItemService>>;
  const homes: string[] = [];
  const newHome = async () => {
    const h = await mkdtemp(join(tmpdir(), 'agent-home-'));
    homes.push(h);
    const c = await run(h, 'wallet', 'connect', regtest().nwcUri);
    expect(c.code, c.stderr).toBe(0);
    return h;
  };

  beforeAll(async () => {
    serverDir = await mkdtemp(join(tmpdir(), 'agent-server-'));
    server = await startServer({ config: { port: 0, dataDir: serverDir }, backend: lndBackend(lnd('alice')) });
    items = await startItemService();
  });
  afterAll(async () => {
    await server?.close();
    await items?.close();
    await rm(serverDir, { recursive: true, force: true });
    for (const h of homes) await rm(h, { recursive: true, force: true });
  });

  it('fetch pays our server once, then reuses the token; --dry-run pays nothing', async () => {
    const home = await newHome();
    expect((await run(home, 'rules', 'allow', server.url, '--budget', '200')).code).toBe(0);
    const url = `${server.url}/v1/similarity`;
    const args = ['fetch', url, '-X', 'POST', '-H', 'content-type: application/json', '-d', similarityBody];

    const dry = await run(home, ...args, '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    const preview = json<{ challenge: { scheme: string; amountSats: number }; verdict: { action: string } }>(dry);
    expect(preview.challenge).toMatchObject({ scheme: 'L402', amountSats: 10 });
    expect(preview.verdict.action).toBe('pay');
    expect(await ledger(home)).toEqual([]);

    const first = await run(home, ...args);
    expect(first.code, first.stderr).toBe(0);
    const paid = json<{ status: number; body: string; paid: { amountSats: number; paymentHash: string } | null }>(
      first,
    );
    expect(paid.status).toBe(200);
    expect(JSON.parse(paid.body)).toHaveProperty('similarity');
    expect(paid.paid?.amountSats).toBe(10);
    const inv = await lnd('alice').lookupInvoice(paid.paid!.paymentHash);
    expect(inv.state).toBe('SETTLED');

    const second = await run(home, ...args);
    expect(second.code, second.stderr).toBe(0);
    expect(json<{ status: number; paid: unknown; usedToken: boolean }>(second)).toMatchObject({
      status: 200,
      paid: null,
      usedToken: true,
    });
    const records = await ledger(home);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: 'succeeded', paymentHash: paid.paid!.paymentHash });
    const tokens = json<{ paymentHash: string }[]>(await run(home, 'tokens', '--json'));
    expect(tokens.map((t) => t.paymentHash)).toEqual([paid.paid!.paymentHash]);
  });

  it.each([
    { authSchemes: 'payment', scheme: 'Payment', kind: 'payment' },
    { authSchemes: 'x402', scheme: 'x402', kind: 'x402' },
  ] as const)(
    'a one-time $scheme charge: each fetch pays once, keeps no token, and names the scheme',
    async ({ authSchemes, scheme, kind }) => {
      const dir = await mkdtemp(join(tmpdir(), 'agent-server-'));
      const charged = await startServer({
        config: { port: 0, dataDir: dir, authSchemes },
        backend: lndBackend(lnd('alice')),
      });
      try {
        const home = await newHome();
        expect((await run(home, 'rules', 'allow', charged.url, '--budget', '200')).code).toBe(0);
        const args = ['fetch', `${charged.url}/v1/similarity`, '-X', 'POST', '-H', 'content-type: application/json'];
        const dry = json<{ challenge: { scheme: string; reusable: boolean; amountSats: number } }>(
          await run(home, ...args, '-d', similarityBody, '--dry-run'),
        );
        expect(dry.challenge).toMatchObject({ scheme, reusable: false, amountSats: 10 });
        const hashes: string[] = [];
        for (let i = 0; i < 2; i++) {
          const r = await run(home, ...args, '-d', similarityBody);
          expect(r.code, r.stderr).toBe(0);
          const out = json<{ status: number; body: string; paid: { scheme: string; paymentHash: string } | null }>(r);
          expect(out.status).toBe(200);
          expect(JSON.parse(out.body)).toHaveProperty('similarity');
          expect(out.paid?.scheme).toBe(scheme);
          expect((await lnd('alice').lookupInvoice(out.paid!.paymentHash)).state).toBe('SETTLED');
          hashes.push(out.paid!.paymentHash);
        }
        // A charge is credited once: the second call paid a new invoice, and nothing was kept as a token.
        expect(new Set(hashes).size).toBe(2);
        expect((await ledger(home)).map((p) => [p.kind, p.status])).toEqual([
          [kind, 'succeeded'],
          [kind, 'succeeded'],
        ]);
        expect(json<unknown[]>(await run(home, 'tokens', '--json'))).toEqual([]);
      } finally {
        await charged.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses over the per-payment cap and for a denied host, with exit code 3 and the reason, paying nothing', async () => {
    const home = await newHome();
    await run(home, 'rules', 'allow', server.url, '--budget', '200');
    const url = `${server.url}/v1/similarity`;
    const args = ['fetch', url, '-X', 'POST', '-H', 'content-type: application/json', '-d', similarityBody];

    await run(home, 'rules', 'set', '--per-payment-cap', '5');
    const capped = await run(home, ...args);
    expect(capped.code).toBe(3);
    expect(json<{ error: { message: string } }>(capped).error.message).toMatch(/per-payment cap/);

    await run(home, 'rules', 'set', '--per-payment-cap', '100');
    await run(home, 'rules', 'deny', server.url);
    const denied = await run(home, ...args);
    expect(denied.code).toBe(3);
    expect(json<{ error: { message: string } }>(denied).error.message).toMatch(/deny list/);

    const overMax = await run(home, 'rules', 'undeny', server.url).then(() => run(home, ...args, '--max-sats', '3'));
    expect(overMax.code).toBe(3);
    expect(json<{ error: { message: string } }>(overMax).error.message).toMatch(/--max-sats/);
    expect(await ledger(home)).toEqual([]);
  });

  it('an MCP client (the SDK, stdio) lists the tools and pays through `fetch`; a refusal is a tool error', async () => {
    const home = await newHome();
    await run(home, 'rules', 'allow', server.url, '--budget', '200');
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', '--session-budget', '35'],
        env: { ...(process.env as Record<string, string>), L402_AUTOPILOT_HOME: home },
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['budget', 'fetch', 'payments', 'preview']);
      const call = (name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args });
      const textOf = (r: Awaited<ReturnType<typeof call>>) => (r.content as { type: string; text: string }[])[0]!.text;
      const req = {
        url: `${server.url}/v1/similarity`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: similarityBody,
      };

      const preview = await call('preview', req);
      expect(JSON.parse(textOf(preview))).toMatchObject({ challenge: { amountSats: 10 }, verdict: { action: 'pay' } });
      const r = await call('fetch', req);
      expect(r.isError, textOf(r)).toBeFalsy();
      const out = JSON.parse(textOf(r)) as {
        status: number;
        headers: Record<string, string>;
        paid: { sats: number; scheme: string; paymentHash: string };
      };
      expect(out.status).toBe(200);
      expect(out.headers['content-type']).toMatch(/json/);
      expect(out.paid).toMatchObject({ sats: 10, scheme: 'L402' });
      expect((await lnd('alice').lookupInvoice(out.paid.paymentHash)).state).toBe('SETTLED');

      const budget = JSON.parse(textOf(await call('budget', {}))) as { run: { budgetSats: number; leftSats: number } };
      expect(budget.run.budgetSats).toBe(35);
      expect(budget.run.leftSats).toBeLessThan(35);

      // A service with no rule: the agent cannot be asked, so it is refused, with the reason.
      const refused = await call('fetch', { url: `${items.url}/item/mcp` });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/^refused: .*no rule for this site/);

      // With a rule for it (set meanwhile by the CLI: the server reads the rules per call) it pays, until the
      // session budget (35 sats; a payment reserves 10 + up to 10 fee) is spent.
      expect((await run(home, 'rules', 'allow', items.url, '--budget', '200')).code).toBe(0);
      const item = await call('fetch', { url: `${items.url}/item/mcp` });
      expect(item.isError, textOf(item)).toBeFalsy();
      const overSession = await call('fetch', { url: `${items.url}/item/mcp-2` });
      expect(overSession.isError).toBe(true);
      expect(textOf(overSession)).toMatch(/^refused: .*this run's budget/);

      const payments = JSON.parse(textOf(await call('payments', { limit: 5 }))) as {
        paymentHash: string;
        preimage: string;
      }[];
      expect(payments).toHaveLength(2);
      expect(payments.map((p) => p.paymentHash)).toContain(out.paid.paymentHash);
    } finally {
      await client.close();
    }
  });

  it('20 concurrent fetches from two MCP server processes sharing one budget for 5 payments pay at most 5', async () => {
    const home = await newHome();
    await run(home, 'rules', 'allow', items.url, '--budget', '50'); // 10 sats per item: room for 5
    const clients = await Promise.all(
      [0, 1].map(async () => {
        const c = new Client({ name: 'racer', version: '1' });
        await c.connect(
          new StdioClientTransport({
            command: process.execPath,
            args: [BIN, 'mcp'],
            env: { ...(process.env as Record<string, string>), L402_AUTOPILOT_HOME: home },
          }),
        );
        return c;
      }),
    );
    try {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          clients[i % 2]!.callTool({ name: 'fetch', arguments: { url: `${items.url}/item/${i}` } }),
        ),
      );
      const texts = results.map((r) => (r.content as { text: string }[])[0]!.text);
      const ok = results.filter((r) => !r.isError);
      expect(ok.length).toBeGreaterThan(0);
      expect(ok.length).toBeLessThanOrEqual(5);
      for (const [i, r] of results.entries()) if (r.isError) expect(texts[i]).toMatch(/^refused: .*budget/);
      const records = await ledger(home);
      const succeeded = records.filter((r) => r.status === 'succeeded');
      expect(succeeded.length).toBe(ok.length);
      const spentMsat = succeeded.reduce((n, r) => n + r.amountMsat + (r.feeMsat ?? 0), 0);
      expect(spentMsat).toBeLessThanOrEqual(50_000);
      // Real money: alice was paid exactly for those invoices.
      for (const r of succeeded) expect((await lnd('alice').lookupInvoice(r.paymentHash)).state).toBe('SETTLED');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('a process SIGKILLed while its payment is in flight: the next start resumes it, never paying twice', async () => {
    const home = await newHome();
    await run(home, 'rules', 'allow', items.url, '--budget', '100');
    const url = `${items.url}/hold/1`;
    const killed = cli(home, ['fetch', url]);
    // Wait until bob's HTLC is held at alice: the payment is in flight.
    let hash = '';
    await expect
      .poll(
        async () => {
          const preimage = items.holds.get('/hold/1');
          if (!preimage) return 'no invoice yet';
          hash = createHash('sha256').update(preimage).digest('hex');
          return (await lnd('alice').lookupInvoice(hash)).state;
        },
        { timeout: 60_000 },
      )
      .toBe('ACCEPTED');
    killed.proc.kill('SIGKILL');
    expect((await killed.done).code).toBeNull();
    const before = await ledger(home);
    expect(before.map((r) => [r.paymentHash, r.status])).toEqual([[hash, 'unknown']]);

    await aliceRaw('/v2/invoices/settle', { preimage: items.holds.get('/hold/1')!.toString('base64') });
    await expect.poll(async () => (await lnd('alice').lookupInvoice(hash)).state, { timeout: 30_000 }).toBe('SETTLED');

    // Next start: the fetch resumes the payment (wallet lookup), stores its token and uses it — no new payment.
    const again = await run(home, 'fetch', url);
    expect(again.code, again.stderr).toBe(0);
    expect(json<{ status: number; paid: unknown; usedToken: boolean }>(again)).toMatchObject({
      status: 200,
      paid: null,
      usedToken: true,
    });
    const after = await ledger(home);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({
      paymentHash: hash,
      status: 'succeeded',
      preimage: items.holds.get('/hold/1')!.toString('hex'),
    });
    const bobPayments = (await lnd('bob').listPayments(1000)).filter((p) => p.paymentHash === hash);
    expect(bobPayments).toHaveLength(1);
  });
});
