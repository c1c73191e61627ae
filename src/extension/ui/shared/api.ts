// The UI's one door to state (issue 6: "no direct storage poking from UI code"). Every read and write goes to the
// background over the typed UiApi map; the background validates, owns storage and answers with a Result envelope.
import browser from 'webextension-polyfill';
import type { ArgOf, Envelope, MethodOf, Result, ResultOf, UiApi } from '../../messaging/protocol.ts';

/** A failed call, carrying the background's error code (e.g. `invalid_settings`) and its message in words. */
export class ApiError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

function isResult(value: unknown): value is Result<unknown> {
  return typeof value === 'object' && value !== null && 'ok' in value;
}

/** Calls one UiApi method in the background; resolves with its value or rejects with an {@link ApiError}. */
export async function call<K extends MethodOf<UiApi>>(method: K, arg: ArgOf<UiApi, K>): Promise<ResultOf<UiApi, K>> {
  const envelope: Envelope<'ui'> = { boundary: 'ui', method, arg };
  let reply: unknown;
  try {
    reply = await browser.runtime.sendMessage(envelope);
  } catch (e) {
    // No listener (worker still starting, or handlers missing) surfaces as a rejected sendMessage.
    throw new ApiError('unreachable', `The extension's background did not answer (${errorText(e)}).`);
  }
  if (!isResult(reply)) throw new ApiError('unreachable', "The extension's background did not answer.");
  if (reply.ok) return reply.value as ResultOf<UiApi, K>;
  throw new ApiError(reply.error.code, reply.error.message);
}

/** A readable message for anything thrown. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
