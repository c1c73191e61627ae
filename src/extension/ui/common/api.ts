// The UI's one door to state ("no direct storage poking from UI code"). Every read and write goes to the
// background over the typed UiApi map through the one generic client (messaging/channel.ts); the background
// validates, owns storage and answers with a Result envelope.
import browser from 'webextension-polyfill';
import { ChannelError, createClient } from '../../messaging/channel.ts';
import type { ArgOf, Envelope, MethodOf, ResultOf, UiApi } from '../../messaging/protocol.ts';

async function transport(env: Envelope<'ui'>): Promise<unknown> {
  try {
    return await browser.runtime.sendMessage(env);
  } catch (e) {
    // No listener (worker starting, or handlers missing) rejects sendMessage: say so in words, not a stack.
    throw new ChannelError('unreachable', `The extension's background did not answer (${errorText(e)}).`);
  }
}

const client = createClient('ui', transport);

/** Calls one UiApi method in the background; resolves with its value or rejects with a {@link ChannelError}. */
export function call<K extends MethodOf<UiApi>>(method: K, arg: ArgOf<UiApi, K>): Promise<ResultOf<UiApi, K>> {
  return client(method, arg);
}

/** A readable message for anything thrown. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
