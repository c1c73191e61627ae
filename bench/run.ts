// `npm run bench`: HTTP throughput and latency of the similarity route (a) with no gate, (b) with a
// valid L402 credential, (c) the 402 path, at 8 and 1536 dimensions; the same batch as a JSON and as a binary
// body; the batch kernels against a memory-read baseline. Loopback only, interleaved rounds of bounded length
// (BENCH_ROUND_S, BENCH_ROUNDS). Writes bench/results/<name>.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { measureGateInProcess } from './gate-micro.ts';
import { measureInjectedSize } from './injected-size.ts';
import { measureKernel, measureSimdKernel, spread } from './kernel.ts';
import { measureRegtestLatency } from './regtest-latency.ts';
import { encodeF32Batch, F32_BATCH_CONTENT_TYPE } from '../src/toolkit/f32-batch.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** Seconds per round of one case (default 5; e.g. BENCH_ROUND_S=1 for a quick run). */
const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** The batch body comparison: rows of 1536 dims (200 rows: the JSON body, ~6 MB, fits the 8 MiB JSON cap). */
const BATCH_ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 200);
const BATCH_DIMS = 1536;
const NAME = process.env.BENCH_NAME ?? `server-${new Date().toISOString().replace(/[:.]/g, '-')}`;

async function startChild(
  mode: 'free' | 'gated',
): Promise<{ url: string; authorization: string | null; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(here, 'server-child.ts'), mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
  return { ...(JSON.parse(line) as { url: string; authorization: string | null }), child };
}

const vector = (dims: number, seed: number): number[] =>
  Array.from({ length: dims }, (_, i) => Math.sin(i * 0.37 + seed));

/** One HTTP case: what to send and what status counts as success. */
interface Target {
  name: string;
  url: string;
  path: string;
  dims: number;
  body: string | Buffer;
  headers: Record<string, string>;
  expected: number;
  connections: number;
}

interface Round {
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  unexpected: number;
}

async function round(t: Target): Promise<Round> {
  const res = await autocannon({
    url: `${t.url}${t.path}`,
    method: 'POST',
    body: t.body,
    headers: t.headers,
    connections: t.connections,
    duration: ROUND_S,
  });
  const ok = res.statusCodeStats[String(t.expected)]?.count ?? 0;
  return {
    req_per_s: res.requests.total / ROUND_S,
    p50_ms: res.latency.p50,
    p99_ms: res.latency.p99,
    requests: res.requests.total,
    unexpected: res.requests.total - ok + res.errors,
  };
}

/**
 * Every target once per round, ROUNDS rounds, the order reversed every other round: a burst of load from other
 * processes on the shared machine hits every case alike, and drift does not favour the case that runs first.
 * Returns the rounds of each target, in target order.
 */
async function interleave(targets: Target[]): Promise<Round[][]> {
  const rounds: Round[][] = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    const order = targets.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) rounds[i]!.push(await round(targets[i]!));
  }
  return rounds;
}

interface HttpCase {
  case: string;
  dims: number;
  expected_status: number;
  /** Median of the rounds' req/s, with the range. */
  req_per_s: number;
  req_per_s_min: number;
  req_per_s_max: number;
  p50_ms: number;
  p50_ms_min: number;
  p50_ms_max: number;
  p99_ms: number;
  requests: number;
  unexpected: number;
  /** req/s of each round (rounds interleave with the other cases of this dimension). */
  rounds_req_per_s: number[];
}

function summarise(t: Target, rs: Round[]): HttpCase {
  const rps = spread(rs.map((r) => r.req_per_s));
  const p50 = spread(rs.map((r) => r.p50_ms));
  return {
    case: t.name,
    dims: t.dims,
    expected_status: t.expected,
    req_per_s: rps.median,
    req_per_s_min: rps.min,
    req_per_s_max: rps.max,
    p50_ms: p50.median,
    p50_ms_min: p50.min,
    p50_ms_max: p50.max,
    p99_ms: spread(rs.map((r) => r.p99_ms)).median,
    requests: rs.reduce((n, r) => n + r.requests, 0),
    unexpected: rs.reduce((n, r) => n + r.unexpected, 0),
    rounds_req_per_s: rs.map((r) => r.req_per_s),
  };
}

const fmt = (n: number, d = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const range = (lo: number, hi: number, d = 0, unit = ''): string => `${fmt(lo, d)}–${fmt(hi, d)}${unit}`;

async function main(): Promise<void> {
  const free = await startChild('free');
  const gated = await startChild('gated');
  // The 402 case mints thousands of invoices per round: on its own server, so their records (heap, debounced
  // saves of the dev node's invoice file) never land in the process that case b is measured on.
  const challenged = await startChild('gated');
  const pairTargets: Target[] = [];
  const json = { 'content-type': 'application/json' };
  for (const dims of [8, 1536]) {
    const body = JSON.stringify({ a: vector(dims, 1), b: vector(dims, 2) });
    const common = { path: '/v1/similarity', dims, body, connections: CONNECTIONS };
    pairTargets.push(
      { ...common, name: 'a_no_gate', url: free.url, headers: json, expected: 200 },
      {
        ...common,
        name: 'b_valid_l402',
        url: gated.url,
        headers: { ...json, authorization: gated.authorization! },
        expected: 200,
      },
      { ...common, name: 'c_402_challenge', url: challenged.url, headers: json, expected: 402 },
    );
  }
  // The same batch as JSON and as a binary body, on the ungated server: HTTP + parse + kernel + top-k.
  const query = vector(BATCH_DIMS, 3).map(Math.fround);
  const rows = Array.from({ length: BATCH_ROWS }, (_, r) => vector(BATCH_DIMS, r + 10).map(Math.fround));
  const batchCommon = { url: free.url, path: '/v1/similarity/batch', dims: BATCH_DIMS, expected: 200, connections: 2 };
  const batchTargets: Target[] = [
    { ...batchCommon, name: 'batch_json', body: JSON.stringify({ query, vectors: rows }), headers: json },
    {
      ...batchCommon,
      name: 'batch_binary',
      body: Buffer.from(encodeF32Batch({ query, vectors: rows })),
      headers: { 'content-type': F32_BATCH_CONTENT_TYPE },
    },
  ];
  let pairRounds: Round[][];
  let batchRounds: Round[][];
  try {
    pairRounds = await interleave(pairTargets);
    batchRounds = await interleave(batchTargets);
  } finally {
    free.child.kill('SIGTERM');
    gated.child.kill('SIGTERM');
    challenged.child.kill('SIGTERM');
  }
  const http = pairTargets.map((t, i) => summarise(t, pairRounds[i]!));
  const batchCases = batchTargets.map((t, i) => summarise(t, batchRounds[i]!));
  const vectorMb = ((BATCH_ROWS + 1) * BATCH_DIMS * 4) / 1e6;
  const [bj, bb] = batchCases as [HttpCase, HttpCase];
  const batchSpeedups = bb.rounds_req_per_s.map((x, r) => x / bj.rounds_req_per_s[r]!);
  const batch_binary_vs_json = {
    dims: BATCH_DIMS,
    rows: BATCH_ROWS,
    /** float32 bytes of query + rows, the same for both bodies. */
    vector_mb: vectorMb,
    json_body_bytes: Buffer.byteLength(batchTargets[0]!.body),
    binary_body_bytes: Buffer.byteLength(batchTargets[1]!.body),
    json_mb_s: bj.req_per_s * vectorMb,
    binary_mb_s: bb.req_per_s * vectorMb,
    speedup: bb.req_per_s / bj.req_per_s,
    speedup_min: Math.min(...batchSpeedups),
    speedup_max: Math.max(...batchSpeedups),
    cases: batchCases,
  };

  const kernel = [measureSimdKernel(8, 32e6), measureSimdKernel(1536, 32e6)];
  const kernelReference = [measureKernel(8, 500_000), measureKernel(1536, 2600)];
  const gateMicro = await measureGateInProcess();
  const injected = measureInjectedSize();
  // BENCH_REGTEST=0 skips the regtest run (it needs the btcd/lnd binaries: npm run regtest:build).
  const regtest = process.env.BENCH_REGTEST === '0' ? null : await measureRegtestLatency();

  const rowsOut = http.map((h) => {
    const base = http.find((x) => x.case === 'a_no_gate' && x.dims === h.dims)!;
    return {
      ...h,
      vs_no_gate: h.req_per_s / base.req_per_s,
      // Paired with (a)'s round right next to it: the spread of the ratio, not of the machine.
      vs_no_gate_rounds: h.rounds_req_per_s.map((x, r) => x / base.rounds_req_per_s[r]!),
    };
  });
  const overhead = (d: number): number[] =>
    rowsOut.find((r) => r.case === 'b_valid_l402' && r.dims === d)!.vs_no_gate_rounds.map((v) => (1 - v) * 100);
  const result = {
    name: NAME,
    date: new Date().toISOString(),
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
    duration_s: ROUND_S * ROUNDS,
    round_s: ROUND_S,
    rounds: ROUNDS,
    connections: CONNECTIONS,
    http: rowsOut,
    /** 1 − (b's median req/s ÷ a's median req/s), in %. */
    gate_overhead_pct: Object.fromEntries(
      [8, 1536].map((d) => {
        const b = rowsOut.find((r) => r.case === 'b_valid_l402' && r.dims === d)!;
        return [`dims_${d}`, (1 - b.vs_no_gate) * 100];
      }),
    ),
    /** The same per round (each (b) round against the (a) round beside it). */
    gate_overhead_pct_rounds: { dims_8: overhead(8), dims_1536: overhead(1536) },
    gate_in_process: gateMicro,
    batch_binary_vs_json,
    kernel,
    kernel_reference: kernelReference,
    injected_scripts: injected,
    regtest_402_to_200: regtest,
  };
  const out = join(here, 'results', `${NAME}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);

  const p = (s: string, w: number): string => s.padStart(w);
  console.log(`\nHTTP POST /v1/similarity  (${CONNECTIONS} connections, loopback, ${result.cpus} CPUs)`);
  console.log(`(${ROUNDS} interleaved rounds of ${ROUND_S} s per case; median of the rounds, range beside it)`);
  console.log(
    `${'case'.padEnd(17)}${p('dims', 5)}${p('status', 7)}${p('req/s', 8)}${p('range', 14)}${p('p50 ms', 8)}${p('range', 11)}${p('p99 ms', 8)}${p('vs (a)', 8)}${p('range', 14)}${p('unexp.', 7)}`,
  );
  for (const r of rowsOut) {
    const v = spread(r.vs_no_gate_rounds);
    console.log(
      `${r.case.padEnd(17)}${p(String(r.dims), 5)}${p(String(r.expected_status), 7)}${p(fmt(r.req_per_s), 8)}${p(range(r.req_per_s_min, r.req_per_s_max), 14)}${p(fmt(r.p50_ms, 1), 8)}${p(range(r.p50_ms_min, r.p50_ms_max, 1), 11)}${p(fmt(r.p99_ms, 1), 8)}${p(`${fmt(r.vs_no_gate * 100, 1)}%`, 8)}${p(range(v.min * 100, v.max * 100, 1, '%'), 14)}${p(String(r.unexpected), 7)}`,
    );
  }
  for (const d of [8, 1536]) {
    const o = spread(overhead(d));
    console.log(
      `gate overhead (b vs a), dims_${d}: ${fmt(result.gate_overhead_pct[`dims_${d}`]!, 1)}% (rounds ${range(o.min, o.max, 1, '%')})`,
    );
  }
  const bv = batch_binary_vs_json;
  console.log(
    `\nPOST /v1/similarity/batch, ${bv.rows} × ${bv.dims} (${fmt(bv.vector_mb, 2)} MB of float32), no gate, 2 connections`,
  );
  for (const c of bv.cases) {
    const body = c.case === 'batch_json' ? bv.json_body_bytes : bv.binary_body_bytes;
    console.log(
      `  ${c.case.padEnd(14)} body ${p(fmt(body / 1e6, 2), 6)} MB ${p(fmt(c.req_per_s, 1), 8)} req/s (${range(c.req_per_s_min, c.req_per_s_max, 1)}) ${p(fmt(c.req_per_s * bv.vector_mb, 1), 8)} MB/s of vectors, p50 ${fmt(c.p50_ms, 1)} ms`,
    );
  }
  console.log(`  binary vs JSON: ${fmt(bv.speedup, 1)}× (rounds ${range(bv.speedup_min, bv.speedup_max, 1, '×')})`);
  console.log('\nIn-process (app.fetch, no socket), dims 8, best of 7 × 2000 requests: µs per request');
  for (const g of gateMicro) console.log(`  ${g.case.padEnd(18)}${p(fmt(g.us_per_request, 1), 8)} µs`);
  const micro = (n: string): number => gateMicro.find((g) => g.case === n)!.us_per_request;
  console.log(
    `  gate cost with a valid credential: ${fmt(micro('b_valid_l402') - micro('a_no_gate'), 1)} µs (${fmt((micro('b_valid_l402') / micro('a_no_gate') - 1) * 100, 1)}% of (a))`,
  );
  console.log('\nBatch kernel vs a plain JS memory read of the same bytes (15 paired runs, median ratio and range)');
  console.log(
    `${'kernel'.padEnd(15)}${p('dims', 6)}${p('rows', 9)}${p('MB', 6)}${p('kernel GB/s', 13)}${p('JS read GB/s', 14)}${p('time ratio', 12)}${p('range', 13)}${p('SIMD read GB/s', 16)}${p('vs SIMD read', 14)}`,
  );
  for (const k of [...kernel, ...kernelReference]) {
    console.log(
      `${k.kernel.padEnd(15)}${p(String(k.dims), 6)}${p(String(k.rows), 9)}${p(fmt(k.bytes / 1e6, 0), 6)}${p(fmt(k.kernel_gb_s, 2), 13)}${p(fmt(k.baseline_gb_s, 2), 14)}${p(`${fmt(k.kernel_vs_baseline, 2)}×`, 12)}${p(range(k.kernel_vs_baseline_min, k.kernel_vs_baseline_max, 2, '×'), 13)}${p(k.simd_read_gb_s ? fmt(k.simd_read_gb_s, 2) : '', 16)}${p(k.kernel_vs_simd_read ? `${fmt(k.kernel_vs_simd_read, 2)}×` : '', 14)}`,
    );
  }
  console.log('\nInjected into every page (dist/chrome)');
  if (!injected) console.log('  (not built: run npm run build first)');
  for (const f of injected ?? [])
    console.log(`  ${f.world.padEnd(9)}${f.file.padEnd(44)}${p(fmt(f.bytes), 8)} B${p(fmt(f.gzip_bytes), 8)} B gzip`);
  if (regtest) {
    console.log('\nEnd to end on regtest (toolkit → NWC → bob → alice → server), wall time');
    console.log(
      `  402 → pay → 200, fresh token: p50 ${fmt(regtest.paid_p50_ms, 0)} ms, max ${fmt(regtest.paid_max_ms, 0)} ms (${regtest.paid_requests} requests)`,
    );
    console.log(
      `  reused token:                 p50 ${fmt(regtest.reuse_p50_ms, 1)} ms (${regtest.reuse_requests} requests)`,
    );
    console.log(
      `  paid / reused latency ratio:  ${fmt(regtest.paid_p50_ms / regtest.reuse_p50_ms, 0)}×   (network up in ${fmt(regtest.network_up_s, 1)} s)`,
    );
  }
  console.log(`\nwrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
