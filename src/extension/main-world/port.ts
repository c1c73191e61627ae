// The MAIN world's end of the window channel (docs/design.md#secure). Runs in the page's own JS world, so it captures
// the native functions it relies on at document_start, before any page script can replace them. Both maps go through
// the one generic client and dispatcher (messaging/channel.ts): PageApi calls out, TabApi requests in.
import { type Client, createClient, createDispatcher, type Dispatcher, failure } from '../messaging/channel.ts';
import type { Handlers, PageApi, TabApi } from '../messaging/protocol.ts';
import { tabChecks } from '../messaging/schema.ts';
import { CHANNEL, isWindowMessage, type TabRequest } from '../messaging/window-channel.ts';

const post = window.postMessage.bind(window);
const listen = window.addEventListener.bind(window);
const origin = location.origin;
const pending = new Map<string, (reply: unknown) => void>();
let seq = 0;

let tab: Dispatcher<null> | null = null;

/** Installs the page-side handlers of TabApi requests relayed by the bridge (arguments checked by `tabChecks`). */
export function onTabRequest(handlers: Handlers<TabApi, null>): void {
  tab = createDispatcher('tab', tabChecks, handlers);
}

function answerTab(m: TabRequest): void {
  const reply = (result: unknown) => post({ ch: CHANNEL, kind: 'tab-res', id: m.id, result }, origin);
  if (tab) void tab.dispatch({ boundary: 'tab', method: m.method, arg: m.arg }, null).then(reply);
  else reply(failure('unavailable', 'no page handler'));
}

listen('message', (e: MessageEvent) => {
  // Only our own window; the bridge posts with our origin as target.
  if (e.source !== window || e.origin !== origin || !isWindowMessage(e.data)) return;
  const m = e.data;
  if (m.kind === 'tab-req') return answerTab(m);
  if (m.kind !== 'res') return;
  const resolve = pending.get(m.id);
  if (!resolve) return;
  pending.delete(m.id);
  resolve(m.result);
});

/** Calls a PageApi method through the bridge; rejects with a ChannelError carrying the wire `code`. */
export const call: Client<PageApi> = createClient(
  'page',
  (env) =>
    new Promise((resolve) => {
      const id = `m${++seq}-${Math.random().toString(36).slice(2, 10)}`;
      pending.set(id, resolve);
      post({ ch: CHANNEL, kind: 'req', id, method: env.method, arg: env.arg }, origin);
    }),
);
