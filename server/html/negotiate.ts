// Content negotiation for routes that answer JSON to programs and a page to browsers (GET /v1/similarity).
// JSON stays the default: `*/*` (curl, fetch) or a tie means JSON; only an Accept that ranks text/html above
// application/json (a browser navigation sends `text/html,…,*/*;q=0.8`) gets HTML.

interface Range {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): Range[] {
  const out: Range[] = [];
  for (const part of accept.split(',')) {
    const [media = '', ...params] = part.split(';');
    const [type = '', subtype = ''] = media.trim().toLowerCase().split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((x) => x.trim());
      if (k?.toLowerCase() === 'q') {
        const n = Number(v);
        q = Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
      }
    }
    out.push({ type, subtype, q });
  }
  return out;
}

/** The q the Accept gives `mime`: from its most specific matching range (RFC 9110 §12.5.1), 0 when none matches. */
function qualityOf(ranges: Range[], mime: string): number {
  const [type, subtype] = mime.split('/');
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*' && r.subtype === '*'
            ? 0
            : -1;
    if (specificity > best) {
      best = specificity;
      q = r.q;
    }
  }
  return q;
}

/**
 * True when the `Accept` header ranks `text/html` strictly above `application/json`.
 * @example prefersHtml('text/html,application/xhtml+xml,*\/*;q=0.8') // true
 *          prefersHtml('*\/*') // false (JSON by default)
 */
export function prefersHtml(accept: string | null | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  return qualityOf(ranges, 'text/html') > qualityOf(ranges, 'application/json');
}
