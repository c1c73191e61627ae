// End-to-end 402 → 200 latency on the regtest network (docs/design.md#quality-bars): the toolkit, paying over a real NWC
// connection (relay + wallet service in front of bob's lnd), the server on alice's lnd. Measures a
// fresh paid request (402, pay, verify, retry) and a request that reuses the token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinaries, startNetwork } from '../scripts/regtest/network.ts';
import { lndBackend } from '../server/lightning/lnd-backend.ts';
import { lndLightningNode } from '../server/nostr/lnd-lightning-node.ts';
import { startNwcWalletService } from '../server/nostr/nwc-wallet-service.ts';
import { startRelay } from '../server/nostr/relay.ts';
import { silentLogger } from '../server/log.ts';
import { startServer } from '../server/start.ts';
import { fetchWithL402, memoryTokenStore } from '../src/toolkit/index.ts';
import { createNwcWallet } from '../src/wallet/nwc.ts';

export interface LatencyResult {
  paid_requests: number;
  paid_p50_ms: number;
  paid_max_ms: number;
  reuse_requests: number;
  reuse_p50_ms: number;
  network_up_s: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureRegtestLatency(paid = 8, reuse = 50): Promise<LatencyResult> {
  const quiet = () => {};
  ensureBinaries(quiet);
  const t0 = performance.now();
  const net = await startNetwork({ log: quiet });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-latency-'));
  const closers: Array<() => Promise<unknown>> = [() => net.stop()];
  try {
    const relay = await startRelay();
    closers.unshift(() => relay.close());
    const nwc = await startNwcWalletService({ relayUrl: relay.url, node: lndLightningNode(net.rest('bob')) });
    closers.unshift(() => nwc.close());
    const server = await startServer({
      config: { port: 0, dataDir },
      backend: lndBackend(net.rest('alice')),
      log: silentLogger,
    });
    closers.unshift(() => server.close());
    const upS = (performance.now() - t0) / 1000;
    const wallet = createNwcWallet(nwc.nwcUri, { timeoutMs: 60_000 });
    closers.unshift(async () => wallet.close?.());
    const body = JSON.stringify({ a: [1, 2, 3], b: [3, 2, 1] });
    const call = (tokenStore: ReturnType<typeof memoryTokenStore>) =>
      fetchWithL402(
        `${server.url}/v1/similarity`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body },
        {
          wallet,
          tokenStore,
          networks: ['regtest'],
        },
      );
    const paidMs: number[] = [];
    let store = memoryTokenStore();
    for (let i = 0; i < paid; i++) {
      store = memoryTokenStore(); // a fresh store: every request pays
      const t = performance.now();
      const res = await call(store);
      if (res.status !== 200) throw new Error(`paid request answered ${res.status}`);
      paidMs.push(performance.now() - t);
    }
    const reuseMs: number[] = [];
    for (let i = 0; i < reuse; i++) {
      const t = performance.now();
      const res = await call(store);
      if (res.status !== 200) throw new Error(`token reuse answered ${res.status}`);
      reuseMs.push(performance.now() - t);
    }
    return {
      paid_requests: paid,
      paid_p50_ms: median(paidMs),
      paid_max_ms: Math.max(...paidMs),
      reuse_requests: reuse,
      reuse_p50_ms: median(reuseMs),
      network_up_s: upS,
    };
  } finally {
    for (const c of closers) await c().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
