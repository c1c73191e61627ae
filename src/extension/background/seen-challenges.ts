// Challenges the BROWSER saw (webRequest), per tab and URL, kept briefly in storage.session. A page's
// `challenge` call is honoured only if it repeats a 402 the browser really delivered to that tab for that
// URL: otherwise a hostile page could invent a 402 "from" another site and spend that site's auto-pay budget
// on the attacker's invoice (docs/design.md#secure: the page can only ask, and only about what happened to it).
import { type KeyValueStorage, withLock } from './storage.ts';

const PREFIX = 'seen402:';
const LOCK = 'l402-autopilot:seen402';
const KEEP_MS = 120_000;
const MAX_PER_URL = 64;

interface Seen {
  www: string;
  at: number;
}

export interface SeenDeps {
  storage: KeyValueStorage;
  clock: () => number;
}

// webRequest reports URLs without the fragment; a page's Request.url keeps it.
const key = (tabId: number, url: string) => `${PREFIX}${tabId}:${url.split('#')[0]}`;
// fetch joins repeated headers with ", "; webRequest lists them: compare without whitespace.
const norm = (s: string) => s.replace(/\s+/g, '');

/** Records a 402's WWW-Authenticate lines as the browser received them. */
export function rememberChallenge(deps: SeenDeps, tabId: number, url: string, lines: string[]): Promise<void> {
  return withLock(LOCK, async () => {
    const now = deps.clock();
    const list = ((await deps.storage.get<Seen[]>(key(tabId, url))) ?? []).filter((s) => now - s.at < KEEP_MS);
    list.push({ www: norm(lines.join(',')), at: now });
    await deps.storage.set(key(tabId, url), list.slice(-MAX_PER_URL));
  });
}

/**
 * Did the browser deliver this challenge to this tab for this URL? Waits briefly, since the page can get the
 * response before the webRequest listener has finished writing.
 */
export async function wasSeen(deps: SeenDeps & { sleep?: (ms: number) => Promise<void> }, tabId: number, url: string, www: string[]): Promise<boolean> {
  const want = norm(www.join(','));
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let i = 0; i < 20; i++) {
    const list = (await deps.storage.get<Seen[]>(key(tabId, url))) ?? [];
    if (list.some((s) => s.www === want && deps.clock() - s.at < KEEP_MS)) return true;
    await sleep(50);
  }
  return false;
}

/** Forget a tab's records (tab closed). */
export async function forgetTab(deps: SeenDeps, tabId: number): Promise<void> {
  for (const k of (await deps.storage.getAll<Seen[]>(`${PREFIX}${tabId}:`)).keys()) await deps.storage.remove(k);
}
