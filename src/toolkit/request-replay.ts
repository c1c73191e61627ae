// Makes a request re-sendable without touching the caller's copy (docs/design.md#house-style): a body can be read once, and
// the retry after paying must send the same bytes, so the body is buffered once, up front.

/** A credential header to add: `authorization` (L402, Payment) or `PAYMENT-SIGNATURE` (x402). */
export interface Credential {
  header: string;
  value: string;
}

/** A request the toolkit can send any number of times, with or without a credential. */
export interface Replayable {
  url: URL;
  /** True when the caller set their own Authorization header (then no cached token is attached). */
  hasAuthorization: boolean;
  /** A fresh Request each call; `credential` replaces any header of its name. */
  build(credential: Credential | null): Request;
}

// Node's fetch (undici) refuses a stream body without `duplex: 'half'`; browsers accept it (and ignore it).
type InitWithDuplex = RequestInit & { duplex?: 'half' };

function isStream(body: unknown): boolean {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
}

/**
 * Copies `input` + `init` into a {@link Replayable}. A `Request` input is cloned first, so its body stays
 * readable for the caller; a stream body (in `init` or the Request) is read to the end once here.
 */
export async function toReplayable(input: RequestInfo | URL, init?: RequestInit): Promise<Replayable> {
  const source = input instanceof Request ? input.clone() : input;
  const ownInit: InitWithDuplex | undefined = init && isStream(init.body) ? { ...init, duplex: 'half' } : init;
  const base = new Request(source, ownInit);
  // FormData/Blob/URLSearchParams bodies already set their Content-Type (with the multipart boundary) on
  // base.headers, so the buffered bytes stay consistent with the headers reused below.
  const body = base.body === null ? null : await base.arrayBuffer();
  const headers = base.headers;
  return {
    url: new URL(base.url),
    hasAuthorization: headers.has('authorization'),
    build(credential) {
      const h = new Headers(headers);
      if (credential !== null) h.set(credential.header, credential.value);
      // A copy of the bytes for each send: nothing downstream can detach or alter the buffer we keep.
      return new Request(base, body === null ? { headers: h } : { headers: h, body: body.slice(0) });
    },
  };
}
