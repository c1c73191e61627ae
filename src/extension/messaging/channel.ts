// The ONE generic send/handle implementation for every boundary (docs/design.md#house-style): a typed client that
// wraps calls in an Envelope and unwraps a Result, and a dispatcher that routes an Envelope to a handler
// object keyed by method. Errors cross as {code, message}; nothing else of an exception leaks.
import type {
  ArgOf,
  BoundaryName,
  Boundaries,
  Envelope,
  Handlers,
  MethodOf,
  Result,
  ResultOf,
  WireError,
} from './protocol.ts';

/** An error that crossed a boundary (or is meant to): `code` is machine-readable, `message` is for people. */
export class ChannelError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ChannelError';
    this.code = code;
  }
}

/** Serialises any thrown value to the wire form; unknown failures become `internal`. */
export function toWireError(e: unknown): WireError {
  if (e && typeof e === 'object') {
    const { code, message } = e as { code?: unknown; message?: unknown };
    return {
      code: typeof code === 'string' && code !== '' ? code : 'internal',
      message: typeof message === 'string' ? message : 'internal error',
    };
  }
  return { code: 'internal', message: String(e) };
}

/** A failed Result. */
export function failure(code: string, message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

/** Shape check of an envelope (the payload is checked per method by the receiver). */
export function isEnvelope(x: unknown): x is Envelope {
  if (!x || typeof x !== 'object') return false;
  const e = x as Partial<Envelope>;
  return typeof e.boundary === 'string' && typeof e.method === 'string' && 'arg' in e;
}

/** Shape check of a Result. */
function isResult(x: unknown): x is Result<unknown> {
  if (!x || typeof x !== 'object') return false;
  const r = x as { ok?: unknown; error?: unknown };
  if (r.ok === true) return 'value' in r;
  if (r.ok !== false || !r.error || typeof r.error !== 'object') return false;
  const err = r.error as Partial<WireError>;
  return typeof err.code === 'string' && typeof err.message === 'string';
}

/** Builds the envelope of a call. */
export function envelope<B extends BoundaryName, K extends MethodOf<Boundaries[B]>>(
  boundary: B,
  method: K,
  arg: ArgOf<Boundaries[B], K>,
): Envelope<B> {
  return { boundary, method, arg };
}

/** A typed client of one boundary. */
export type Client<M> = <K extends MethodOf<M>>(method: K, arg: ArgOf<M, K>) => Promise<ResultOf<M, K>>;

/**
 * A client over any transport that delivers an envelope and returns the peer's reply. `resultChecks`, for a map
 * whose peer is untrusted (TabApi: the page can forge its answer), refuses a value of the wrong shape.
 * @example const ui = createClient('ui', (env) => browser.runtime.sendMessage(env)); await ui('getSettings', {});
 */
export function createClient<B extends BoundaryName>(
  boundary: B,
  transport: (env: Envelope<B>) => Promise<unknown>,
  resultChecks?: ArgChecks<Boundaries[B]>,
): Client<Boundaries[B]> {
  const table = resultChecks as Record<string, ArgCheck> | undefined;
  return async (method, arg) => {
    const reply = await transport({ boundary, method, arg });
    if (!isResult(reply)) throw new ChannelError('no_reply', `no valid reply to ${boundary}.${method}`);
    if (!reply.ok) throw new ChannelError(reply.error.code, reply.error.message);
    const why = table?.[method]?.(reply.value) ?? null;
    if (why !== null) throw new ChannelError('bad_reply', `${boundary}.${method} answered: ${why}`);
    return reply.value as ResultOf<Boundaries[B], typeof method>;
  };
}

/** Validates a method's argument; returns a reason when it is wrong. */
export type ArgCheck = (arg: unknown) => string | null;
export type ArgChecks<M> = { [K in keyof M]: ArgCheck };

export interface Dispatcher<Ctx> {
  /** Does this message belong to this boundary (so the caller knows to answer it)? */
  accepts(msg: unknown): msg is Envelope;
  /** Runs the handler; never throws: failures come back as `{ ok: false, error }`. */
  dispatch(msg: Envelope, ctx: Ctx): Promise<Result<unknown>>;
}

/**
 * Routes envelopes of one boundary to `handlers`. Only own methods of `checks` (derived from the map's keys)
 * are callable, and each argument is checked before its handler runs, so a hostile caller can reach nothing else.
 * @example const d = createDispatcher('page', pageChecks, handlers); if (d.accepts(m)) return d.dispatch(m, ctx);
 */
export function createDispatcher<B extends BoundaryName, Ctx>(
  boundary: B,
  checks: ArgChecks<Boundaries[B]>,
  handlers: Handlers<Boundaries[B], Ctx>,
): Dispatcher<Ctx> {
  const table = checks as Record<string, ArgCheck>;
  const run = handlers as unknown as Record<string, (arg: unknown, ctx: Ctx) => Promise<unknown>>;
  return {
    accepts(msg): msg is Envelope {
      return isEnvelope(msg) && msg.boundary === boundary;
    },
    async dispatch(msg, ctx) {
      if (!Object.hasOwn(table, msg.method)) {
        return failure('unknown_method', `${boundary}.${msg.method} does not exist`);
      }
      const why = table[msg.method]?.(msg.arg) ?? null;
      if (why !== null) return failure('bad_request', `${msg.method}: ${why}`);
      try {
        return { ok: true, value: await run[msg.method]?.(msg.arg, ctx) };
      } catch (e) {
        return { ok: false, error: toWireError(e) };
      }
    },
  };
}
