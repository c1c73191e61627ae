// The MAIN world's end of the window channel (docs/design.md#secure). Runs in the page's own JS world, so it captures
// the native functions it relies on at document_start, before any page script can replace them.
import type { ArgOf, PageApi, ResultOf, TabApi } from '../messaging/protocol.ts';
import { CHANNEL, isWindowMessage, type TabRequest } from '../messaging/window-channel.ts';
import { errorMessage } from '../../util/error-message.ts';

const post = window.postMessage.bind(window);
const listen = window.addEventListener.bind(window);
const origin = location.origin;
const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
let seq = 0;

/** An error from the extension, with its wire `code`. */
export interface CodedError extends Error {
  code: string;
}

export function codedError(code: string, message: string): CodedError {
  return Object.assign(new Error(message), { code });
}

type TabHandler = (method: string, arg: unknown) => Promise<unknown>;
let tabHandler: TabHandler | null = null;

/** Installs the page-side handler of TabApi requests relayed by the bridge. */
export function onTabRequest(h: TabHandler): void {
  tabHandler = h;
}

function answerTab(m: TabRequest): void {
  const reply = (result: unknown) => post({ ch: CHANNEL, kind: 'tab-res', id: m.id, result }, origin);
  if (!tabHandler) {
    reply({ ok: false, error: { code: 'unavailable', message: 'no page handler' } });
    return;
  }
  tabHandler(m.method, m.arg).then(
    (value) => reply({ ok: true, value }),
    (e: unknown) => reply({ ok: false, error: { code: 'page_error', message: errorMessage(e) } }),
  );
}

listen('message', (e: MessageEvent) => {
  // Only our own window; the bridge posts with our origin as target.
  if (e.source !== window || e.origin !== origin || !isWindowMessage(e.data)) return;
  const m = e.data;
  if (m.kind === 'tab-req') return answerTab(m);
  if (m.kind !== 'res') return;
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  const r = m.result as { ok?: boolean; value?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (r?.ok === true) p.resolve(r.value);
  else p.reject(codedError(String(r?.error?.code ?? 'internal'), String(r?.error?.message ?? 'extension error')));
});

/** Calls a PageApi method through the bridge. */
export function call<K extends keyof PageApi>(method: K, arg: ArgOf<PageApi, K>): Promise<ResultOf<PageApi, K>> {
  const id = `m${++seq}-${Math.random().toString(36).slice(2, 10)}`;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ ch: CHANNEL, kind: 'req', id, method, arg }, origin);
  });
}

export type TabArg<K extends keyof TabApi> = ArgOf<TabApi, K>;
