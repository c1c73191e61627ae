// `npm run bench`: HTTP throughput and latency of the similarity route (a) with no gate, (b) with a
// valid L402 credential, (c) the 402 path, at 8 and 1536 dimensions, plus the batch kernel against a
// memory-read baseline. Loopback only, bounded duration. Writes bench/results/<name>.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { measureGateInProcess } from './gate-micro.ts';
import { measureInjectedSize } from './injected-size.ts';
import { measureKernel } from './kernel.ts';
import { measureRegtestLatency } from './regtest-latency.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DURATION_S = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const NAME = process.env.BENCH_NAME ?? `server-${new Date().toISOString().replace(/[:.]/g, '-')}`;

async function startChild(mode: 'free' | 'gated'): Promise<{ url: string; authorization: string | null; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(here, 'server-child.ts'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { url: string; authorization: string | null }), child };
}

const vector = (dims: number, seed: number): number[] => Array.from({ length: dims }, (_, i) => Math.sin(i * 0.37 + seed));

interface HttpCase {
  case: string;
  dims: number;
  expected_status: number;
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  unexpected: number;
}

/** One autocannon run. */
async function once(url: string, dims: number, headers: Record<string, string>, seconds: number) {
  return autocannon({
    url: `${url}/v1/similarity`,
    method: 'POST',
    body: JSON.stringify({ a: vector(dims, 1), b: vector(dims, 2) }),
    headers: { 'content-type': 'application/json', ...headers },
    connections: CONNECTIONS,
    duration: seconds,
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  expected: number;
}

/**
 * Runs the cases of one dimension interleaved, ROUNDS times each for DURATION_S / ROUNDS seconds,
 * so a burst of load from other processes on the shared machine hits every case alike; req/s is
 * total requests / total time, latency the median of the rounds.
 */
async function runInterleaved(targets: Target[], dims: number): Promise<HttpCase[]> {
  const seconds = Math.max(1, Math.round(DURATION_S / ROUNDS));
  const acc = targets.map(() => ({ requests: 0, ok: 0, errors: 0, p50: [] as number[], p99: [] as number[] }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, t] of targets.entries()) {
      const res = await once(t.url, dims, t.headers, seconds);
      const a = acc[i]!;
      a.requests += res.requests.total;
      a.ok += res.statusCodeStats[String(t.expected)]?.count ?? 0;
      a.errors += res.errors;
      a.p50.push(res.latency.p50);
      a.p99.push(res.latency.p99);
    }
  }
  return targets.map((t, i) => {
    const a = acc[i]!;
    return {
      case: t.name,
      dims,
      expected_status: t.expected,
      req_per_s: a.requests / (seconds * ROUNDS),
      p50_ms: median(a.p50),
      p99_ms: median(a.p99),
      requests: a.requests,
      unexpected: a.requests - a.ok + a.errors,
    };
  });
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const free = await startChild('free');
  const gated = await startChild('gated');
  const http: HttpCase[] = [];
  try {
    const targets: Target[] = [
      { name: 'a_no_gate', url: free.url, headers: {}, expected: 200 },
      { name: 'b_valid_l402', url: gated.url, headers: { authorization: gated.authorization! }, expected: 200 },
      { name: 'c_402_challenge', url: gated.url, headers: {}, expected: 402 },
    ];
    for (const dims of [8, 1536]) http.push(...(await runInterleaved(targets, dims)));
  } finally {
    free.child.kill('SIGTERM');
    gated.child.kill('SIGTERM');
  }
  const kernel = [measureKernel(8, 500_000), measureKernel(1536, 2600)];
  const gateMicro = await measureGateInProcess();
  const injected = measureInjectedSize();
  // BENCH_REGTEST=0 skips the regtest run (it needs the btcd/lnd binaries: npm run regtest:build).
  const regtest = process.env.BENCH_REGTEST === '0' ? null : await measureRegtestLatency();

  const rows = http.map((h) => {
    const base = http.find((x) => x.case === 'a_no_gate' && x.dims === h.dims)!;
    return { ...h, vs_no_gate: h.req_per_s / base.req_per_s };
  });
  const result = {
    name: NAME,
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    duration_s: DURATION_S,
    connections: CONNECTIONS,
    http: rows,
    gate_overhead_pct: Object.fromEntries(
      [8, 1536].map((d) => {
        const b = rows.find((r) => r.case === 'b_valid_l402' && r.dims === d)!;
        return [`dims_${d}`, (1 - b.vs_no_gate) * 100];
      }),
    ),
    gate_in_process: gateMicro,
    kernel,
    injected_scripts: injected,
    regtest_402_to_200: regtest,
  };
  const out = join(here, 'results', `${NAME}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  const p = (s: string, w: number): string => s.padStart(w);
  console.log(`\nHTTP POST /v1/similarity  (${CONNECTIONS} connections, ${DURATION_S} s per case, loopback, ${result.cpus} CPUs)`);
  console.log(`(interleaved: ${ROUNDS} rounds per case; req/s = total/time, latency = median of rounds)`);
  console.log(`${'case'.padEnd(18)}${p('dims', 6)}${p('status', 8)}${p('req/s', 10)}${p('p50 ms', 9)}${p('p99 ms', 9)}${p('vs (a)', 9)}${p('unexpected', 12)}`);
  for (const r of rows) {
    console.log(
      `${r.case.padEnd(18)}${p(String(r.dims), 6)}${p(String(r.expected_status), 8)}${p(fmt(r.req_per_s), 10)}${p(fmt(r.p50_ms, 1), 9)}${p(fmt(r.p99_ms, 1), 9)}${p(`${fmt(r.vs_no_gate * 100, 1)}%`, 9)}${p(String(r.unexpected), 12)}`,
    );
  }
  for (const [k, v] of Object.entries(result.gate_overhead_pct)) console.log(`gate overhead (b vs a), ${k}: ${fmt(v, 1)}%`);
  console.log('\nIn-process (app.fetch, no socket), dims 8, best of 7 × 2000 requests: µs per request');
  for (const g of gateMicro) console.log(`  ${g.case.padEnd(18)}${p(fmt(g.us_per_request, 1), 8)} µs`);
  const micro = (n: string): number => gateMicro.find((g) => g.case === n)!.us_per_request;
  console.log(`  gate cost with a valid credential: ${fmt(micro('b_valid_l402') - micro('a_no_gate'), 1)} µs (${fmt((micro('b_valid_l402') / micro('a_no_gate') - 1) * 100, 1)}% of (a))`);
  console.log('\nBatch kernel vs memory-read baseline (best of 15, same run)');
  console.log(`${'dims'.padStart(6)}${p('rows', 9)}${p('MB', 8)}${p('kernel GB/s', 13)}${p('baseline GB/s', 15)}${p('kernel/baseline time', 22)}`);
  for (const k of kernel) {
    console.log(`${p(String(k.dims), 6)}${p(String(k.rows), 9)}${p(fmt(k.bytes / 1e6, 1), 8)}${p(fmt(k.kernel_gb_s, 2), 13)}${p(fmt(k.baseline_gb_s, 2), 15)}${p(`${fmt(k.kernel_vs_baseline, 2)}×`, 22)}`);
  }
  console.log('\nInjected into every page (dist/chrome)');
  if (!injected) console.log('  (not built: run npm run build first)');
  for (const f of injected ?? []) console.log(`  ${f.world.padEnd(9)}${f.file.padEnd(44)}${p(fmt(f.bytes), 8)} B${p(fmt(f.gzip_bytes), 8)} B gzip`);
  if (regtest) {
    console.log('\nEnd to end on regtest (toolkit → NWC → bob → alice → server), wall time');
    console.log(`  402 → pay → 200, fresh token: p50 ${fmt(regtest.paid_p50_ms, 0)} ms, max ${fmt(regtest.paid_max_ms, 0)} ms (${regtest.paid_requests} requests)`);
    console.log(`  reused token:                 p50 ${fmt(regtest.reuse_p50_ms, 1)} ms (${regtest.reuse_requests} requests)`);
    console.log(`  paid / reused latency ratio:  ${fmt(regtest.paid_p50_ms / regtest.reuse_p50_ms, 0)}×   (network up in ${fmt(regtest.network_up_s, 1)} s)`);
  }
  console.log(`\nwrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
