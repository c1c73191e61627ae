// Prints the README "Performance" table from one results file: `node bench/readme-table.ts bench/results/<name>.json`.
import { readFileSync } from 'node:fs';

interface Http {
  case: string;
  dims: number;
  req_per_s: number;
  vs_no_gate: number;
  vs_no_gate_rounds: number[];
}
interface Kernel {
  kernel: string;
  dims: number;
  bytes: number;
  kernel_vs_baseline: number;
  kernel_vs_baseline_min: number;
  kernel_vs_baseline_max: number;
  kernel_vs_simd_read?: number;
}
interface Results {
  name: string;
  round_s: number;
  rounds: number;
  connections: number;
  http: Http[];
  gate_overhead_pct: Record<string, number>;
  gate_overhead_pct_rounds: Record<string, number[]>;
  gate_in_process: { case: string; us_per_request: number }[];
  batch_binary_vs_json: {
    dims: number;
    rows: number;
    json_mb_s: number;
    binary_mb_s: number;
    speedup: number;
    speedup_min: number;
    speedup_max: number;
    json_body_bytes: number;
    binary_body_bytes: number;
  };
  kernel: Kernel[];
  kernel_reference: Kernel[];
  injected_scripts: { world: string; bytes: number; gzip_bytes: number }[] | null;
  regtest_402_to_200: { paid_p50_ms: number; reuse_p50_ms: number } | null;
}

const r = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as Results;
const f = (n: number, d = 1): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const lo = (xs: number[]): number => Math.min(...xs);
const hi = (xs: number[]): number => Math.max(...xs);
const pct = (d: number): string => {
  const rounds = r.gate_overhead_pct_rounds[`dims_${d}`]!;
  return `${f(r.gate_overhead_pct[`dims_${d}`]!)} % (rounds ${f(lo(rounds))} to ${f(hi(rounds))} %)`;
};
const micro = (c: string): number => r.gate_in_process.find((g) => g.case === c)!.us_per_request;
const c402 = (d: number): string => {
  const h = r.http.find((x) => x.case === 'c_402_challenge' && x.dims === d)!;
  return `${f(h.vs_no_gate * 100, 0)} %`;
};
const k = (list: Kernel[], d: number): string => {
  const x = list.find((y) => y.dims === d)!;
  return `${f(x.kernel_vs_baseline, 2)}× (${f(x.kernel_vs_baseline_min, 2)}–${f(x.kernel_vs_baseline_max, 2)})`;
};
const simd = (d: number): string => f(r.kernel.find((y) => y.dims === d)!.kernel_vs_simd_read ?? Number.NaN, 2);
const b = r.batch_binary_vs_json;
const rows: [string, string][] = [
  [
    `L402 gate, valid credential vs no gate (HTTP req/s, median of ${r.rounds} interleaved ${r.round_s} s rounds, ${r.connections} connections)`,
    `overhead ${pct(8)} at 8 dims, ${pct(1536)} at 1536 dims; in-process the gate decision takes ${f(micro('gate_decision_only'))} µs; a request ${f(micro('a_no_gate'), 0)} µs ungated, ${f(micro('b_valid_l402'), 0)} µs with a valid credential${Object.values(r.gate_overhead_pct).some((v) => v < 0) ? '; a negative overhead is noise (the gated rounds served more)' : ''}; over HTTP on 2 cores the rounds scatter more than the gate costs`,
  ],
  ['402 path (invoice + macaroon) vs no gate', `${c402(8)} / ${c402(1536)} of (a)'s req/s at 8 / 1536 dims`],
  [
    `batch of ${b.rows} × ${b.dims}, binary float32 body vs JSON body (HTTP + parse + kernel)`,
    `${f(b.binary_mb_s)} vs ${f(b.json_mb_s)} MB of vectors/s: ${f(b.speedup)}× (rounds ${f(b.speedup_min)}–${f(b.speedup_max)}×); bodies ${f(b.binary_body_bytes / 1e6, 2)} vs ${f(b.json_body_bytes / 1e6, 2)} MB`,
  ],
  [
    'SIMD float32 batch kernel (binary bodies) vs a plain JS read of the same 32 MB, same run (median of 15 paired runs, range)',
    `${k(r.kernel, 8)} the time at 8 dims, ${k(r.kernel, 1536)} at 1536 dims; vs a SIMD read of the same bytes ${simd(8)}× / ${simd(1536)}×`,
  ],
  [
    'float64 JS batch kernel (JSON bodies), same comparison',
    `${k(r.kernel_reference, 8)} at 8 dims, ${k(r.kernel_reference, 1536)} at 1536 dims`,
  ],
];
if (r.regtest_402_to_200) {
  rows.push([
    '402 → pay → 200 on regtest (toolkit → NWC → bob → alice → server)',
    `p50 ${f(r.regtest_402_to_200.paid_p50_ms, 0)} ms; a request reusing the token p50 ${f(r.regtest_402_to_200.reuse_p50_ms)} ms`,
  ]);
}
if (r.injected_scripts) {
  const w = (name: string) => r.injected_scripts!.find((s) => s.world === name)!;
  const total = r.injected_scripts.reduce((n, s) => n + s.gzip_bytes, 0);
  rows.push([
    'injected into every page',
    `MAIN-world script ${f(w('MAIN').bytes / 1000)} kB (${f(w('MAIN').gzip_bytes / 1000)} kB gzip), bridge ${f(w('ISOLATED').bytes / 1000)} kB (${f(w('ISOLATED').gzip_bytes / 1000)} kB gzip); ${f(total / 1000)} kB gzip together`,
  ]);
}
console.log('| what | result |\n| --- | --- |');
for (const [a, c] of rows) console.log(`| ${a} | ${c} |`);
console.log(`\n(bench/results/${r.name}.json)`);
