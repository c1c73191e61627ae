// ISOLATED-world bridge (docs/design.md#secure): the only path between a page and the background, injected into every
// page, so it is a thin relay. It accepts window messages only from this very window, with our channel tag, and
// adds nothing about identity (the background reads the origin from `sender`). What the page says, in either
// direction, is checked by the background (messaging/schema.ts): method and argument of a PageApi call before any
// handler runs, and the page's answer to a TabApi request by the background's tab client (`tabResultChecks`).
import { envelope, failure as fail, isEnvelope } from '../messaging/channel.ts';
import type { PageApi } from '../messaging/protocol.ts';
import { CHANNEL, isWindowMessage } from '../messaging/window-channel.ts';

// No webextension-polyfill (it was two thirds of this file): Chromium and Firefox both give MV3 content scripts a
// promise-returning runtime.sendMessage, and both accept `sendResponse` + `return true` for an async reply.
const ext: typeof chrome = (globalThis as { browser?: typeof chrome }).browser ?? chrome;
const origin = location.origin;
const TAB_TIMEOUT_MS = 120_000;
const waiting = new Map<string, (r: unknown) => void>();

const toPage = (msg: object) => window.postMessage({ ch: CHANNEL, ...msg }, origin);

window.addEventListener('message', (e: MessageEvent) => {
  if (e.source !== window || e.origin !== origin || !isWindowMessage(e.data)) return;
  const m = e.data;
  if (m.kind === 'tab-res') return waiting.get(m.id)?.(m.result);
  if (m.kind !== 'req') return;
  const reply = (result: unknown) => toPage({ kind: 'res', id: m.id, result });
  if (typeof m.method !== 'string') return reply(fail('unknown_method', 'method must be a string'));
  let sent: Promise<unknown>;
  try {
    sent = ext.runtime.sendMessage(envelope('page', m.method as keyof PageApi, m.arg as never));
  } catch (err) {
    // Chromium serialises messages as JSON: a value it cannot (a BigInt, say) throws here.
    return reply(fail('bad_request', `cannot send this argument: ${String(err)}`));
  }
  sent.then(reply, (err: unknown) => reply(fail('unavailable', `extension unavailable: ${String(err)}`)));
});

ext.runtime.onMessage.addListener((msg: unknown, sender, sendResponse) => {
  // Only the background talks to content scripts (no sender.tab); everything else is ignored.
  if (sender.id !== ext.runtime.id || sender.tab || !isEnvelope(msg) || msg.boundary !== 'tab') return undefined;
  const id = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const done = (r: unknown) => {
    clearTimeout(timer);
    waiting.delete(id);
    try {
      sendResponse(r);
    } catch {
      sendResponse(fail('bad_reply', 'the page answered something that cannot be sent'));
    }
  };
  const timer = setTimeout(() => done(fail('timeout', 'the page did not answer')), TAB_TIMEOUT_MS);
  // The page can forge a tab-res, but only for an id we issued; the background checks what it says.
  waiting.set(id, done);
  toPage({ kind: 'tab-req', id, method: msg.method, arg: msg.arg });
  return true; // answered asynchronously (a returned promise is not honoured by every Chromium the manifest allows)
});
