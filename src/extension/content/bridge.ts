// ISOLATED-world bridge (docs/design.md#secure): the only path between a page and the background. It accepts window
// messages only from this very window, with our channel tag, for a PageApi method, with a well-formed
// argument; it adds nothing about identity (the background reads the origin from `sender`). Background →
// tab requests (TabApi) are relayed to the MAIN world and their untrusted answers checked on the way back.
import browser from 'webextension-polyfill';
import { envelope, isEnvelope } from '../messaging/channel.ts';
import type { Envelope, PageApi, Result, TabApi } from '../messaging/protocol.ts';
import { pageChecks, tabChecks, tabResultChecks } from '../messaging/schema.ts';
import { CHANNEL, isWindowMessage } from '../messaging/window-channel.ts';

const origin = location.origin;
const TAB_TIMEOUT_MS = 120_000;
const waiting = new Map<string, (r: Result<unknown>) => void>();

const toPage = (msg: object) => window.postMessage({ ch: CHANNEL, ...msg }, origin);
const fail = (code: string, message: string): Result<unknown> => ({ ok: false, error: { code, message } });

window.addEventListener('message', (e: MessageEvent) => {
  if (e.source !== window || e.origin !== origin || !isWindowMessage(e.data)) return;
  const m = e.data;
  if (m.kind === 'tab-res') {
    waiting.get(m.id)?.(m.result);
    return;
  }
  if (m.kind !== 'req') return;
  const reply = (result: Result<unknown>) => toPage({ kind: 'res', id: m.id, result });
  if (!Object.hasOwn(pageChecks, m.method)) return reply(fail('unknown_method', `no method ${m.method}`));
  const method = m.method as keyof PageApi;
  const why = pageChecks[method](m.arg);
  if (why !== null) return reply(fail('bad_request', why));
  browser.runtime.sendMessage(envelope('page', method, m.arg as never)).then(
    (r: unknown) => reply(r as Result<unknown>),
    (err: unknown) => reply(fail('unavailable', `extension unavailable: ${String(err)}`)),
  );
});

function askPage(msg: Envelope): Promise<Result<unknown>> {
  const method = msg.method as keyof TabApi;
  const why = Object.hasOwn(tabChecks, method) ? tabChecks[method](msg.arg) : 'unknown method';
  if (why !== null) return Promise.resolve(fail('bad_request', why));
  const id = `t${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(fail('timeout', 'the page did not answer')), TAB_TIMEOUT_MS);
    const done = (r: Result<unknown>) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(r);
    };
    // The page can forge a tab-res: accept only a well-formed answer for an id we issued.
    waiting.set(id, (r) => {
      if (r && typeof r === 'object' && r.ok === true) {
        const bad = tabResultChecks[method](r.value);
        done(bad === null ? r : fail('bad_reply', bad));
      } else if (r && typeof r === 'object' && r.ok === false) {
        done(fail(String(r.error?.code ?? 'page_error'), String(r.error?.message ?? 'page error')));
      } else done(fail('bad_reply', 'malformed answer'));
    });
    toPage({ kind: 'tab-req', id, method, arg: msg.arg });
  });
}

browser.runtime.onMessage.addListener((msg: unknown, sender: browser.Runtime.MessageSender) => {
  // Only the background talks to content scripts (no sender.tab); everything else is ignored.
  if (sender.id !== browser.runtime.id || sender.tab || !isEnvelope(msg) || msg.boundary !== 'tab') return undefined;
  return askPage(msg);
});
