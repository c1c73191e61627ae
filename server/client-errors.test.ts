// Hostile bytes over a real socket: every answer, including those of Node's own HTTP parser, is a JSON
// error `{"error":{"code","message"}}`; bodies not declared JSON get 415, and bad UTF-8 or a BOM get 400.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from './start.ts';
import { tempDir } from '../test/support/server-fixtures.ts';

interface RawResponse {
  status: number;
  headers: string;
  body: unknown;
}

/** Writes `bytes` to the server and reads until it closes the connection; returns every response seen. */
function raw(port: number, bytes: Buffer | string): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const out: RawResponse[] = [];
      for (const part of text.split(/(?=^HTTP\/1\.1 \d{3} )/m)) {
        const m = /^HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(part);
        if (!m) continue;
        const body = m[3] ?? '';
        let parsed: unknown = body;
        try {
          parsed = JSON.parse(body);
        } catch {
          // kept as text: the assertions below then fail with the text shown
        }
        out.push({ status: Number(m[1]), headers: (m[2] ?? '').toLowerCase(), body: parsed });
      }
      resolve(out);
    });
  });
}

function expectJsonError(r: RawResponse | undefined, status: number, code: string): void {
  expect(r).toBeDefined();
  expect(r!.status).toBe(status);
  expect(r!.headers).toMatch(/content-type: application\/json/);
  expect(r!.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

const post = (
  body: Buffer | string,
  contentType: string | null = 'application/json',
  length = Buffer.byteLength(body),
): Buffer =>
  Buffer.concat([
    Buffer.from(
      `POST /v1/similarity HTTP/1.1\r\nHost: x\r\n${contentType === null ? '' : `Content-Type: ${contentType}\r\n`}Content-Length: ${length}\r\nConnection: close\r\n\r\n`,
    ),
    Buffer.isBuffer(body) ? body : Buffer.from(body),
  ]);

describe('every error is a JSON error (over a socket)', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer({ config: { port: 0, dataDir: tempDir(), logRequests: false } });
  });
  afterAll(() => s.close());

  it.each([
    ['CR inside a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'],
    ['NUL inside a header value', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n'],
    ['LF inside a header name', 'GET /health HTTP/1.1\r\nHost: x\r\nX-\nA: b\r\n\r\n'],
    ['a request line that is not HTTP', 'HELLO\r\n\r\n'],
  ])('%s → 400 bad_request', async (_name, bytes) => {
    const [r, ...rest] = await raw(s.port, bytes);
    expectJsonError(r, 400, 'bad_request');
    expect(r!.headers).toMatch(/connection: close/);
    expect(rest).toEqual([]);
  });

  it('headers over 16 KiB → 431 headers_too_large', async () => {
    const [r] = await raw(s.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expectJsonError(r, 431, 'headers_too_large');
  });

  it('a Content-Length shorter than the body: every answer on the connection is a JSON error', async () => {
    const body = '{"a":[1,2],"b":[2,1]}';
    const responses = await raw(
      s.port,
      post(body, 'application/json', 5).toString().replace('Connection: close\r\n', ''),
    );
    expect(responses.length).toBeGreaterThan(0);
    expect(
      responses.some(
        (r) => r.status === 400 && (r.body as { error?: { code?: string } }).error?.code === 'bad_request',
      ),
    ).toBe(true);
    for (const r of responses)
      expect(r.body).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form-encoded (curl -d without -H)', 'application/x-www-form-urlencoded'],
    ['no Content-Type', null],
    ['JSON in another charset', 'application/json; charset=latin1'],
  ])('a body sent as %s → 415 unsupported_media_type', async (_name, type) => {
    const [r] = await raw(s.port, post('{"a":[1],"b":[1]}', type));
    expectJsonError(r, 415, 'unsupported_media_type');
  });

  it('accepts application/json with charset=utf-8 (any case)', async () => {
    const [r] = await raw(s.port, post('{"a":[1],"b":[1]}', 'Application/JSON; Charset=UTF-8'));
    expect(r?.status).toBe(402);
  });

  it.each([
    ['invalid UTF-8', Buffer.from([...Buffer.from('{"a":[1],"b":[1],"x":"'), 0xc3, 0x28, ...Buffer.from('"}')])],
    ['an overlong encoding', Buffer.from([...Buffer.from('{"a":[1],"b":[1],"x":"'), 0xc0, 0xaf, ...Buffer.from('"}')])],
    ['a byte order mark', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"a":[1],"b":[1]}')])],
  ])('a body with %s → 400 invalid_encoding, before any invoice', async (_name, body) => {
    const [r] = await raw(s.port, post(body));
    expectJsonError(r, 400, 'invalid_encoding');
    expect(r!.headers).not.toMatch(/^www-authenticate:/m);
  });
});
