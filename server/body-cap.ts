// Request body caps. Hono's bodyLimit reads `req.body` even when a Content-Length settles the question, and on
// @hono/node-server touching `.body` turns the request into a web stream that the body is then pulled through:
// for a 1 MB batch that cost more than parsing and scoring it (bench/). Here a Content-Length (without
// Transfer-Encoding) is judged from the header alone, so the body is later read straight from the socket;
// anything else (chunked) still goes through bodyLimit, which counts the bytes as they arrive.
import type { IncomingMessage } from 'node:http';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** Refuses a body over `maxSize` bytes with `onError`'s answer. */
export function bodyCap<E extends Env>(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler<E> {
  const streamed = bodyLimit({ maxSize, onError });
  return (c, next) => {
    const h = c.req.raw.headers;
    const length = h.get('content-length');
    if (length !== null && !h.has('transfer-encoding'))
      return Number.parseInt(length, 10) > maxSize ? Promise.resolve(onError(c)) : next();
    return streamed(c, next);
  };
}

/**
 * The request body as bytes. On @hono/node-server with a Content-Length, read from the socket into one buffer of
 * that size (Hono's arrayBuffer() concatenates the chunks and then copies the result once more, and for a large
 * binary batch those copies and their garbage were a fifth of the request, bench/); elsewhere (tests, other
 * runtimes, chunked bodies) through the web Request. A body shorter or longer than its Content-Length is
 * refused by Node's HTTP parser before it gets here.
 */
export async function readBytes(c: Context): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const length = Number(c.req.header('content-length'));
  if (
    !incoming ||
    incoming.readableDidRead ||
    c.req.raw.bodyUsed ||
    !Number.isSafeInteger(length) ||
    c.req.header('transfer-encoding')
  ) {
    return new Uint8Array(await c.req.arrayBuffer());
  }
  const out = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    if (at + chunk.length > length) throw new Error('request body is longer than its Content-Length');
    chunk.copy(out, at);
    at += chunk.length;
  }
  return out.subarray(0, at);
}
