// The window.postMessage leg between the MAIN-world script and the ISOLATED bridge (docs/design.md#secure): every
// message carries this channel tag; receivers check `event.source === window` and the origin, and senders
// always name the page's own origin as target (never "*"). Kept dependency-free: the MAIN world imports it.
import type { Result } from './protocol.ts';

export const CHANNEL = 'l402-autopilot/v1';

/** MAIN → bridge: call a PageApi method. */
interface PageRequest {
  ch: typeof CHANNEL;
  kind: 'req';
  id: string;
  method: string;
  arg: unknown;
}
/** bridge → MAIN: the reply to a PageRequest. */
interface PageResponse {
  ch: typeof CHANNEL;
  kind: 'res';
  id: string;
  result: Result<unknown>;
}
/** bridge → MAIN: the background asks the page (TabApi). */
export interface TabRequest {
  ch: typeof CHANNEL;
  kind: 'tab-req';
  id: string;
  method: string;
  arg: unknown;
}
/** MAIN → bridge: reply to a TabRequest. */
interface TabResponse {
  ch: typeof CHANNEL;
  kind: 'tab-res';
  id: string;
  result: Result<unknown>;
}
type WindowMessage = PageRequest | PageResponse | TabRequest | TabResponse;

/** The tag, kind and id of a window message (payloads are checked by the receiver per method). */
export function isWindowMessage(x: unknown): x is WindowMessage {
  if (!x || typeof x !== 'object') return false;
  const m = x as { ch?: unknown; kind?: unknown; id?: unknown };
  return (
    m.ch === CHANNEL &&
    typeof m.id === 'string' &&
    m.id.length > 0 &&
    m.id.length <= 64 &&
    (m.kind === 'req' || m.kind === 'res' || m.kind === 'tab-req' || m.kind === 'tab-res')
  );
}
