// WWW-Authenticate parsing (RFC 9110 §11.6.1) and L402/LSAT challenge extraction and formatting.
// See docs/design.md#challenge: Aperture sends an LSAT and an L402 line; fetch joins them with ", ".
import { hasControlChar, isBase64 } from './encoding.ts';
import { L402Error } from './errors.ts';

/** One challenge of a WWW-Authenticate list: scheme plus auth-params (names lower-cased) or a token68. */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

/** An L402 (or legacy LSAT) challenge: what a client must pay and present. */
export interface L402Challenge {
  /** As sent; `LSAT` means the same as `L402`. */
  scheme: 'L402' | 'LSAT';
  /** Base64 macaroon from `macaroon=` (classic) or `token=` (revised form). */
  macaroon: string;
  /** BOLT11 payment request. */
  invoice: string;
  /** `version=` of the revised form, when present. */
  version?: string;
}

/** Headers are capped so a hostile server cannot make the parser work on megabytes. */
export const MAX_HEADER_LENGTH = 64 * 1024;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
// Unquoted param values: RFC tokens, leniently widened to base64 ('/' and trailing '=') because some
// servers send `macaroon=AgEB…==` unquoted.
const VALUE_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

class Scanner {
  pos = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos] ?? '';
  }
  skipWs(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** An unquoted param value: token characters (plus '/') then any '=' padding. */
  value(): string {
    const start = this.pos;
    while (!this.done && VALUE_CHAR.test(this.peek())) this.pos++;
    if (this.pos > start) while (this.peek() === '=') this.pos++;
    return this.s.slice(start, this.pos);
  }
  quoted(): string {
    // Caller saw the opening quote.
    this.pos++;
    let out = '';
    while (!this.done) {
      const c = this.s[this.pos++]!;
      if (c === '"') return out;
      if (c === '\\') {
        if (this.done) break;
        out += this.s[this.pos++];
      } else {
        out += c;
      }
    }
    throw new L402Error('malformed_challenge', 'unterminated quoted string in WWW-Authenticate');
  }
  /**
   * True when an auth-param (`name BWS "=" BWS value`) starts at the cursor. A name and "=" followed by
   * another "=", a comma or the end is a token68 instead (`Bearer abc=`, `Bearer abc==`).
   */
  atParam(): boolean {
    const save = this.pos;
    this.skipWs();
    const name = this.token();
    this.skipWs();
    let ok = name.length > 0 && this.peek() === '=';
    if (ok) {
      this.pos++;
      this.skipWs();
      ok = this.peek() === '"' || VALUE_CHAR.test(this.peek());
    }
    this.pos = save;
    return ok;
  }
}

function bad(message: string): never {
  throw new L402Error('malformed_challenge', message);
}

function parseOne(s: string, out: AuthChallenge[]): void {
  const sc = new Scanner(s);
  for (;;) {
    while (sc.peek() === ',' || sc.peek() === ' ' || sc.peek() === '\t') sc.pos++;
    if (sc.done) return;
    const scheme = sc.token();
    if (!scheme) bad(`unexpected character ${JSON.stringify(sc.peek())} at ${sc.pos}`);
    const challenge: AuthChallenge = { scheme, params: {} };
    out.push(challenge);
    sc.skipWs();
    if (sc.done || sc.peek() === ',') continue;
    if (!sc.atParam()) {
      // token68 form: runs to the next comma or the end.
      const start = sc.pos;
      while (!sc.done && sc.peek() !== ',' && sc.peek() !== ' ') sc.pos++;
      const t68 = s.slice(start, sc.pos);
      if (!TOKEN68.test(t68)) bad(`invalid token68 after scheme ${scheme}`);
      challenge.token68 = t68;
      sc.skipWs();
      if (!sc.done && sc.peek() !== ',') bad(`unexpected text after token68 of ${scheme}`);
      continue;
    }
    // auth-params, separated by commas; a missing comma between params is tolerated (seen in the wild).
    for (;;) {
      sc.skipWs();
      const name = sc.token().toLowerCase();
      sc.skipWs();
      sc.pos++; // '=' (guaranteed by atParam)
      sc.skipWs();
      let value: string;
      if (sc.peek() === '"') value = sc.quoted();
      else {
        value = sc.value();
        if (!value) bad(`parameter ${name} of ${scheme} has no value`);
      }
      // Own-property check and define (not `in` / assignment): names like `constructor` or `__proto__` are data.
      if (Object.hasOwn(challenge.params, name)) bad(`parameter ${name} repeated in ${scheme} challenge`);
      Object.defineProperty(challenge.params, name, { value, enumerable: true, writable: true, configurable: true });
      sc.skipWs();
      if (sc.done) return;
      if (sc.peek() === ',') {
        const save = sc.pos;
        while (sc.peek() === ',' || sc.peek() === ' ' || sc.peek() === '\t') sc.pos++;
        if (sc.done) return;
        if (sc.atParam()) continue;
        sc.pos = save;
        break; // the next challenge starts after this comma
      }
      if (sc.atParam()) continue; // missing comma
      bad(`unexpected character ${JSON.stringify(sc.peek())} in ${scheme} challenge`);
    }
  }
}

/**
 * Parses a WWW-Authenticate value — one string (possibly several challenges joined by ", ", as `fetch`
 * gives them) or an array of header lines (as `webRequest` gives them) — into its challenges.
 * Throws `malformed_challenge` on syntax errors; never anything else.
 * @example parseWwwAuthenticate('LSAT macaroon="AA==", invoice="lnbc1…", L402 macaroon="AA==", invoice="lnbc1…"')
 *   // → [{ scheme: 'LSAT', params: {…} }, { scheme: 'L402', params: {…} }]
 */
export function parseWwwAuthenticate(value: string | readonly string[]): AuthChallenge[] {
  if (typeof value !== 'string' && !Array.isArray(value)) bad('header value is not a string');
  const lines: readonly string[] = typeof value === 'string' ? [value] : value;
  let total = 0;
  const out: AuthChallenge[] = [];
  for (const line of lines) {
    if (typeof line !== 'string') bad('header value is not a string');
    total += line.length;
    if (total > MAX_HEADER_LENGTH) bad(`WWW-Authenticate longer than ${MAX_HEADER_LENGTH} characters`);
    if (hasControlChar(line)) bad('control characters in WWW-Authenticate');
    parseOne(line, out);
  }
  return out;
}

const INVOICE = /^ln[a-z0-9]+$/i;

function toL402(c: AuthChallenge): L402Challenge {
  const scheme = c.scheme.toUpperCase() as 'L402' | 'LSAT';
  const macaroon = c.params.macaroon ?? c.params.token;
  const invoice = c.params.invoice;
  if (!macaroon) bad(`${scheme} challenge has no macaroon= or token=`);
  if (!invoice) bad(`${scheme} challenge has no invoice=`);
  if (!isBase64(macaroon)) bad(`${scheme} macaroon is not base64`);
  if (!INVOICE.test(invoice)) bad(`${scheme} invoice is not a BOLT11 payment request`);
  const out: L402Challenge = { scheme, macaroon, invoice };
  if (c.params.version !== undefined) out.version = c.params.version;
  return out;
}

/**
 * Finds the L402 challenge in a WWW-Authenticate value, preferring `L402` over `LSAT` (case-insensitive).
 * Throws `unsupported_scheme` when no L402/LSAT challenge is present, `malformed_challenge` when one is broken.
 * @example const { macaroon, invoice } = parseL402Challenge(res.headers.get('www-authenticate')!);
 */
export function parseL402Challenge(value: string | readonly string[]): L402Challenge {
  const all = parseWwwAuthenticate(value);
  const l402 = all.find((c) => c.scheme.toUpperCase() === 'L402');
  const lsat = all.find((c) => c.scheme.toUpperCase() === 'LSAT');
  const pick = l402 ?? lsat;
  if (!pick) {
    const schemes = all.map((c) => c.scheme).join(', ') || 'none';
    throw new L402Error('unsupported_scheme', `no L402 or LSAT challenge (schemes: ${schemes})`);
  }
  try {
    return toL402(pick);
  } catch (e) {
    // Aperture's twin: if the L402 line is broken but the LSAT one is fine, use that.
    if (pick === l402 && lsat) return toL402(lsat);
    throw e;
  }
}

/** Options for {@link formatL402Challenge}. */
export interface FormatChallengeOptions {
  /** `classic`: `macaroon="…", invoice="…"` (default, what Aperture sends); `revised`: `version="0", token="…", invoice="…"`. */
  form?: 'classic' | 'revised';
  scheme?: 'L402' | 'LSAT';
}

function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Formats one challenge for a `WWW-Authenticate` header.
 * @example formatL402Challenge({ macaroon, invoice }) // 'L402 macaroon="…", invoice="…"'
 */
export function formatL402Challenge(
  c: { macaroon: string; invoice: string },
  options: FormatChallengeOptions = {},
): string {
  if (!isBase64(c.macaroon)) throw new L402Error('bad_macaroon', 'macaroon must be base64');
  if (!INVOICE.test(c.invoice)) throw new L402Error('bad_invoice', 'invoice must be a BOLT11 payment request');
  const scheme = options.scheme ?? 'L402';
  return options.form === 'revised'
    ? `${scheme} version="0", token=${quote(c.macaroon)}, invoice=${quote(c.invoice)}`
    : `${scheme} macaroon=${quote(c.macaroon)}, invoice=${quote(c.invoice)}`;
}

/**
 * The header lines a server sends: the L402 challenge, preceded by an `LSAT` twin for old clients
 * when `lsatTwin` is set (Aperture's order). Append each as its own `WWW-Authenticate` line.
 * @example for (const v of formatL402Challenges(c, { lsatTwin: true })) headers.append('WWW-Authenticate', v);
 */
export function formatL402Challenges(
  c: { macaroon: string; invoice: string },
  options: Omit<FormatChallengeOptions, 'scheme'> & { lsatTwin?: boolean } = {},
): string[] {
  const lines = [formatL402Challenge(c, { ...options, scheme: 'L402' })];
  if (options.lsatTwin) lines.unshift(formatL402Challenge(c, { ...options, scheme: 'LSAT' }));
  return lines;
}
