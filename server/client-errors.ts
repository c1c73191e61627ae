// Node's HTTP parser refuses some requests before any route sees them (CR/LF/NUL in a header, headers over
// 16 KiB, bytes after a body that Content-Length did not announce); its default answer has no body. This
// handler answers them with the same JSON error shape as every other error, then closes the connection.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody } from './gate/l402-gate.ts';
import type { Logger } from './log.ts';

/** Status and error code for a parser error code. */
function classify(code: string | undefined): { status: number; code: string; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, code: 'headers_too_large', message: 'request headers exceed 16 KiB' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { status: 408, code: 'request_timeout', message: 'the request took too long to arrive' };
  return { status: 400, code: 'bad_request', message: `malformed HTTP request${code ? ` (${code})` : ''}` };
}

/** The raw HTTP/1.1 response for a parser error: JSON body, `Connection: close`. */
function clientErrorResponse(err: Error & { code?: string }): string {
  const c = classify(err.code);
  const body = JSON.stringify(errorBody(c.code, c.message));
  return [
    `HTTP/1.1 ${c.status} ${STATUS_CODES[c.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    'cache-control: no-store',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Anything with Node's `clientError` event (an http.Server). */
interface ClientErrorEmitter {
  on(event: 'clientError', listener: (err: Error & { code?: string }, socket: Duplex) => void): unknown;
}

/** Installs the JSON `clientError` handler on `server`. */
export function installClientErrorHandler(server: ClientErrorEmitter, log: Logger): void {
  server.on('clientError', (err, socket) => {
    log({ msg: 'client_error', error: err.code ?? err.message });
    // A reset peer, or a connection whose in-flight response has started, gets nothing more: writing
    // now would corrupt what the peer is reading (Node's own default handler makes the same check).
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err));
    setTimeout(() => socket.destroy(), 1000).unref();
  });
}
