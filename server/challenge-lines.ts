// Sends each WWW-Authenticate challenge on its own header line (`LSAT`, `L402`, then `Payment`), as Aperture does.
// Web `Headers` join repeated values with ", ", which is legal but trips clients that read only the first
// challenge of a line; the Node adapter hands us the outgoing message, so the joined value is split back there.
// Firefox hides such a header from page scripts; the extension pays it from webRequest (docs/design.md#challenge).
const SCHEMES = /^(L402|LSAT|Payment)[ \t]+[A-Za-z0-9!#$%&'*+\-.^_`|~]+[ \t]*=/i;

/**
 * Splits a joined WWW-Authenticate value at the commas (outside quoted strings) that start an L402, LSAT or
 * Payment challenge. Anything else stays with the challenge before it.
 * @example splitChallenges('LSAT macaroon="a", invoice="b", L402 macaroon="a", invoice="b"') // two lines
 */
export function splitChallenges(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      const rest = value.slice(i + 1).replace(/^[ \t]+/, '');
      if (SCHEMES.test(rest)) {
        out.push(value.slice(start, i).trim());
        start = value.length - rest.length;
      }
    }
  }
  out.push(value.slice(start).trim());
  return out.filter((l) => l.length > 0);
}

type WriteHead = (status: number, headers?: Record<string, string | string[]>) => unknown;
/** The part of Node's outgoing message (http or http2) this needs. */
type Outgoing = { writeHead: WriteHead };

/** Wraps an app's `fetch` for `@hono/node-server` so a 401/402's challenges go out as separate lines. */
export function separateChallengeLines<E>(fetch: (request: Request, env: E) => Response | Promise<Response>) {
  return async (request: Request, env: E): Promise<Response> => {
    const res = await fetch(request, env);
    const value = res.headers.get('www-authenticate');
    const outgoing = (env as { outgoing?: Outgoing } | undefined)?.outgoing;
    if (value && outgoing && typeof outgoing.writeHead === 'function') {
      const lines = splitChallenges(value);
      if (lines.length > 1) {
        const writeHead = outgoing.writeHead.bind(outgoing);
        outgoing.writeHead = (status, headers) => {
          if (headers && 'www-authenticate' in headers) headers['www-authenticate'] = lines;
          return writeHead(status, headers);
        };
      }
    }
    return res;
  };
}
