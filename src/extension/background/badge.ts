// Per-tab count of 402s on the toolbar badge (docs/design.md#show). Counts live in storage.session (the worker keeps
// nothing in memory between events).
import { type KeyValueStorage, withLock } from './storage.ts';

const PREFIX = 'badge:';

interface BadgeDeps {
  storage: KeyValueStorage;
  setText(tabId: number, text: string): Promise<void>;
}

export async function challengesSeen(deps: BadgeDeps, tabId: number): Promise<number> {
  return (await deps.storage.get<number>(PREFIX + tabId)) ?? 0;
}

/** One more 402 in this tab. Locked: a page firing many requests at once must not lose counts. */
export async function countChallenge(deps: BadgeDeps, tabId: number): Promise<void> {
  await withLock(PREFIX + tabId, async () => {
    const n = (await challengesSeen(deps, tabId)) + 1;
    await deps.storage.set(PREFIX + tabId, n);
    await deps.setText(tabId, String(n)).catch(() => {});
  });
}

/** A new page loaded in the tab (or it closed): start over. */
export async function resetBadge(deps: BadgeDeps, tabId: number): Promise<void> {
  if ((await deps.storage.get<number>(PREFIX + tabId)) === undefined) return;
  await deps.storage.remove(PREFIX + tabId);
  await deps.setText(tabId, '').catch(() => {});
}
