// Per-tab count of 402s on the toolbar badge, and a tooltip naming the schemes they asked for
// (docs/design.md#show). Counts live in storage.session (the worker keeps nothing in memory between events).
import { type ChallengeScheme, challengeBreakdown } from '../model/model.ts';
import { type KeyValueStorage, withLock } from './storage.ts';

const PREFIX = 'badge:';
const NAME = 'L402 Autopilot';

/** The counts of one tab: all 402s, and how many offered each scheme (a 402 offering two counts for both). */
export interface TabCounts {
  total: number;
  bySchemes: Partial<Record<ChallengeScheme, number>>;
}

interface BadgeDeps {
  storage: KeyValueStorage;
  setText(tabId: number, text: string): Promise<void>;
  setTitle(tabId: number, title: string): Promise<void>;
}

export async function countsOf(deps: BadgeDeps, tabId: number): Promise<TabCounts> {
  const v = await deps.storage.get<TabCounts | number>(PREFIX + tabId);
  // A plain number is a count written before schemes were kept.
  if (typeof v === 'number') return { total: v, bySchemes: {} };
  return v ?? { total: 0, bySchemes: {} };
}

export async function challengesSeen(deps: BadgeDeps, tabId: number): Promise<number> {
  return (await countsOf(deps, tabId)).total;
}

/**
 * The tooltip: `L402 Autopilot — 3 payment requests on this page: 2 × L402 (token), 1 × Payment (one-time charge)`.
 * @example badgeTitle({ total: 1, bySchemes: { x402: 1 } })
 */
export function badgeTitle(c: TabCounts): string {
  if (c.total === 0) return NAME;
  const parts = challengeBreakdown(c.bySchemes);
  const what = c.total === 1 ? '1 payment request' : `${c.total} payment requests`;
  return `${NAME} — ${what} on this page${parts ? `: ${parts}` : ''}`;
}

/** One more 402 in this tab, offering `schemes`. Locked: a page firing many requests at once must not lose counts. */
export async function countChallenge(
  deps: BadgeDeps,
  tabId: number,
  schemes: readonly ChallengeScheme[],
): Promise<void> {
  await withLock(PREFIX + tabId, async () => {
    const c = await countsOf(deps, tabId);
    const next: TabCounts = { total: c.total + 1, bySchemes: { ...c.bySchemes } };
    for (const s of new Set(schemes.length > 0 ? schemes : (['other'] as const))) {
      next.bySchemes[s] = (next.bySchemes[s] ?? 0) + 1;
    }
    await deps.storage.set(PREFIX + tabId, next);
    await deps.setText(tabId, String(next.total)).catch(() => {});
    await deps.setTitle(tabId, badgeTitle(next)).catch(() => {});
  });
}

/** A new page loaded in the tab (or it closed): start over. */
export async function resetBadge(deps: BadgeDeps, tabId: number): Promise<void> {
  if ((await deps.storage.get(PREFIX + tabId)) === undefined) return;
  await deps.storage.remove(PREFIX + tabId);
  await deps.setText(tabId, '').catch(() => {});
  await deps.setTitle(tabId, NAME).catch(() => {});
}
