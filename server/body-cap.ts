// Request body caps. Hono's bodyLimit reads `req.body` even when a Content-Length settles the question, and on
// @hono/node-server touching `.body` turns the request into a web stream that the body is then pulled through:
// for a 1 MB batch that cost more than parsing and scoring it (bench/). Here a Content-Length (without
// Transfer-Encoding) is judged from the header alone, so the body is later read straight from the socket;
// anything else (chunked) still goes through bodyLimit, which counts the bytes as they arrive.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export function bodyCap<E extends object>(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler<{ Variables: E }> {
  const streamed = bodyLimit({ maxSize, onError });
  return (c, next) => {
    const h = c.req.raw.headers;
    const length = h.get('content-length');
    if (length !== null && !h.has('transfer-encoding')) return Number.parseInt(length, 10) > maxSize ? Promise.resolve(onError(c)) : next();
    return streamed(c, next);
  };
}
