// The readable HTML answers of GET /v1/similarity for browsers (a top-level navigation, e.g. the /demo page's
// "Open as a page" link). Every interpolated value is escaped; the pages carry no script and a CSP that forbids one.

/** Escapes text for HTML element content and double-quoted attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const CSS = `:root{color-scheme:light dark}body{margin:0;font:16px/1.5 system-ui,sans-serif}
main{max-width:680px;margin:0 auto;padding:32px 20px}h1{font-size:1.4rem;margin:0 0 16px}
output{display:block;font-size:2rem;font-weight:700;margin:8px 0 16px}code{font:13px/1.4 ui-monospace,monospace;word-break:break-all}
dt{font-weight:600;margin-top:8px}dd{margin:0}p.err{color:#b42318}small{opacity:.7}`;

/** Headers of every HTML answer: no scripts at all, no sniffing, and the negotiation made visible to caches. */
export const HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'x-content-type-options': 'nosniff',
  vary: 'Accept',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
<p><small><a href="/demo">Similarity demo</a> · <a href="/v1/pricing">Prices</a></small></p>
</main>
</body>
</html>`;
}

const list = (v: ArrayLike<number>): string => escapeHtml(Array.from(v, String).join(', '));

/** The page for a computed similarity; `#similarity` holds the value. */
export function similarityPage(a: ArrayLike<number>, b: ArrayLike<number>, similarity: number): string {
  return page(
    `Cosine similarity ${similarity}`,
    `<h1>Cosine similarity</h1>
<output id="similarity">${escapeHtml(String(similarity))}</output>
<dl>
<dt>a (${a.length} dimensions)</dt><dd><code>${list(a)}</code></dd>
<dt>b</dt><dd><code>${list(b)}</code></dd>
</dl>`,
  );
}

const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;

/**
 * The page for an error answer of the API (402, 400, 503, …), built from its JSON body
 * (`{error:{code,message}, price_sat?, invoice?}`); unknown shapes fall back to the status alone.
 */
export function errorPage(status: number, body: unknown): string {
  const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const err = typeof o.error === 'object' && o.error !== null ? (o.error as Record<string, unknown>) : {};
  const code = str(err.code) ?? 'error';
  const message = str(err.message) ?? '';
  if (status === 402) {
    const sats = str(o.price_sat);
    const invoice = str(o.invoice);
    return page(
      'Payment required',
      `<h1 id="payment-required">Payment required${sats ? `: ${escapeHtml(sats)} sats` : ''}</h1>
<p>This page is sold over Lightning with L402. With the L402 Autopilot extension (or another L402 client) the
payment is made and the page reloads with the answer.</p>
${invoice ? `<dl><dt>Invoice</dt><dd><code>${escapeHtml(invoice)}</code></dd></dl>` : ''}`,
    );
  }
  const field = str(err.field);
  return page(
    `Error ${status}`,
    `<h1>Error ${escapeHtml(String(status))}: <code>${escapeHtml(code)}</code></h1>
<p class="err" id="error">${escapeHtml(message)}</p>
${field ? `<p>Field: <code>${escapeHtml(field)}</code></p>` : ''}`,
  );
}
