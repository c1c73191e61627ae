// What each tab showed last, for the top-level navigations Firefox names no initiator for (detector.ts
// unnamedNavigation, docs/security.md). Kept in storage.session, not in memory: Firefox unloads an idle event page,
// and a tab whose history the restarted background lost must not read as a fresh tab (that would be the
// service's own budget). One small record per tab, removed with the tab.
import type { TabBefore } from './detector.ts';
import type { KeyValueStorage } from './storage.ts';

const PREFIX = 'fxtab:';
const key = (tabId: number) => `${PREFIX}${tabId}`;

export interface FirefoxTabMemory {
  /** What the tab showed; with no record, `openerOf` says whether a page opened it. */
  before(tabId: number): Promise<TabBefore>;
  /** The tab now shows a document of `origin`. */
  showed(tabId: number, origin: string): Promise<void>;
  /** A page opened this tab (tabs.onCreated with an opener). */
  opened(tabId: number): Promise<void>;
  forget(tabId: number): Promise<void>;
}

export function firefoxTabMemory(
  storage: KeyValueStorage,
  /** Whether the browser knows an opener tab for this tab (tabs.get().openerTabId); used when no record exists. */
  openerOf: (tabId: number) => Promise<boolean>,
): FirefoxTabMemory {
  return {
    async before(tabId) {
      const v = await storage.get<{ openedByPage: boolean; lastOrigin: string | null }>(key(tabId));
      if (v) return { openedByPage: v.openedByPage, lastOrigin: v.lastOrigin ?? undefined };
      // No record (the tab predates this background, or its record was lost): an opened tab stays opaque.
      return { openedByPage: await openerOf(tabId).catch(() => false), lastOrigin: undefined };
    },
    showed: (tabId, origin) => storage.set(key(tabId), { openedByPage: false, lastOrigin: origin }),
    opened: (tabId) => storage.set(key(tabId), { openedByPage: true, lastOrigin: null }),
    forget: (tabId) => storage.remove(key(tabId)),
  };
}
