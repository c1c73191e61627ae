// Typed access to the regtest network that test/integration/global-setup.ts provides.
import { inject } from 'vitest';
import type { RegtestSummary } from '../../scripts/regtest/network.ts';
import { LndAdmin } from '../../scripts/regtest/lnd-admin.ts';
import { lndConfigFromDir } from '../../server/lightning/lnd-rest.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    regtest: RegtestSummary;
  }
}

export type { RegtestSummary };
export type NodeName = 'alice' | 'bob' | 'carol';

export function regtest(): RegtestSummary {
  return inject('regtest');
}

export function lnd(name: NodeName): LndAdmin {
  const n = regtest().nodes[name];
  return new LndAdmin(lndConfigFromDir(n.restUrl, n.lnddir));
}

/**
 * Failure injection and helpers served by the global setup (tests run in workers, the network
 * in the main process). Paths: /alice/stop, /alice/start (any node name), /relay/stop,
 * /relay/start, /nwc/connections {budgetMsat?, budgetRenewal?, methods?} → {nwcUri, walletPubkey}, /mine {blocks}.
 */
export async function control<T = { ok: true }>(path: string, body: unknown = {}): Promise<T> {
  const url = regtest().controlUrl;
  if (!url) throw new Error('regtest control endpoint missing from the provided summary');
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const json = (await res.json()) as T | { error: string };
  if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}: ${(json as { error: string }).error}`);
  return json as T;
}
