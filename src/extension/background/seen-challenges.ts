// Challenges the BROWSER saw (webRequest), per tab and URL, kept briefly in storage.session. A page's
// `challenge` call is honoured only if it repeats a 402 the browser really delivered to that tab for that
// URL: otherwise a hostile page could invent a 402 "from" another site and spend that site's auto-pay budget
// on the attacker's invoice (the page can only ask, and only about what happened to it).
// The server picks these headers, so nothing of its size is stored: a record is a SHA-256 of the header, a
// header longer than the challenge parser accepts is not recorded at all, each URL keeps a few records and the
// whole set a bounded number of URLs, expired ones pruned on every write (docs/security.md "Session storage").
import { MAX_HEADER_LENGTH } from '../../l402/challenge.ts';
import { type KeyValueStorage, withLock } from './storage.ts';

const PREFIX = 'seen402:';
const LOCK = 'l402-autopilot:seen402';
const KEEP_MS = 120_000;
/** Records per tab and URL: a page asks about the 402 it just got, so only the latest few matter. */
export const MAX_PER_URL = 8;
/** Tab+URL keys kept in all; the oldest go first. */
export const MAX_URLS = 256;

interface Seen {
  /** Hex SHA-256 of the normalised header lines. */
  www: string;
  at: number;
}

interface SeenDeps {
  storage: KeyValueStorage;
  clock: () => number;
}

// webRequest reports URLs without the fragment; a page's Request.url keeps it.
const key = (tabId: number, url: string) => `${PREFIX}${tabId}:${url.split('#')[0]}`;
// fetch joins repeated headers with ", "; webRequest lists them: compare without whitespace.
const norm = (s: string) => s.replace(/\s+/g, '');

async function digest(lines: string[]): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(norm(lines.join(',')))));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Too long for the challenge parser: it could never be paid, so it is not worth a record. */
const tooLong = (lines: string[]) => lines.reduce((n, l) => n + l.length, 0) > MAX_HEADER_LENGTH;

/** Records a 402's WWW-Authenticate lines as the browser received them (as a digest; see above). */
export async function rememberChallenge(deps: SeenDeps, tabId: number, url: string, lines: string[]): Promise<void> {
  if (tooLong(lines)) return;
  const www = await digest(lines);
  return withLock(LOCK, async () => {
    const now = deps.clock();
    const k = key(tabId, url);
    const list = ((await deps.storage.get<Seen[]>(k)) ?? []).filter((s) => now - s.at < KEEP_MS);
    list.push({ www, at: now });
    await deps.storage.set(k, list.slice(-MAX_PER_URL));
    // Prune: expired keys go, and beyond MAX_URLS the least recently written.
    const all = [...(await deps.storage.getAll<Seen[]>(PREFIX)).entries()].map(([kk, l]) => ({
      k: kk,
      last: Math.max(0, ...l.map((s) => s.at)),
    }));
    const stale = all.filter((e) => now - e.last >= KEEP_MS);
    const live = all.filter((e) => now - e.last < KEEP_MS).sort((a, b) => b.last - a.last);
    for (const e of [...stale, ...live.slice(MAX_URLS)]) await deps.storage.remove(e.k);
  });
}

/**
 * Did the browser deliver this challenge to this tab for this URL? Waits briefly, since the page can get the
 * response before the webRequest listener has finished writing.
 */
export async function wasSeen(
  deps: SeenDeps & { sleep?: (ms: number) => Promise<void> },
  tabId: number,
  url: string,
  www: string[],
): Promise<boolean> {
  if (tooLong(www)) return false;
  const want = await digest(www);
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
