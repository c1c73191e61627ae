// Runs in the browser (bundled by bundle.ts; the toolkit import becomes /demo/toolkit.js).
// "Compute with WebLN" = the page toolkit over window.webln; "plain fetch" = no toolkit, so a 402 reaches the page
// unless the L402 Autopilot extension pays it (docs/design.md#the-extension); "Open as a page" = the GET form as a top-level navigation,
// whose 402 the extension pays and reloads with the credential.
import {
  encodeF32Batch,
  F32_BATCH_CONTENT_TYPE,
  fetchWithL402,
  isL402FetchError,
  localStorageTokenStore,
} from '../../src/toolkit/index.ts';
import { errorMessage } from '../../src/util/error-message.ts';

const SAMPLES: { name: string; a: number[]; b: number[] }[] = [
  { name: 'Similar directions', a: [1, 2, 3, 4], b: [1.1, 2.1, 2.9, 4.2] },
  { name: 'Orthogonal', a: [1, 0, 0], b: [0, 1, 0] },
  { name: 'Opposite', a: [0.5, -1, 2], b: [-0.5, 1, -2] },
  {
    name: 'Embeddings (8-d)',
    a: [0.12, -0.4, 0.33, 0.9, -0.05, 0.2, 0.61, -0.3],
    b: [0.1, -0.35, 0.4, 0.8, 0, 0.25, 0.5, -0.2],
  },
];

/** How each AUTH_SCHEMES value is named on the page. */
const SCHEME_NAMES = { l402: 'L402 token', payment: 'Payment charge', x402: 'x402 Lightning' } as const;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const tokenStore = localStorageTokenStore(localStorage, 'l402-demo:');

function log(line: string): void {
  const el = $('log');
  el.textContent = `${new Date().toLocaleTimeString()}  ${line}\n${el.textContent ?? ''}`;
}

function show(result: string, status: string, kind: 'ok' | 'err' | '' = ''): void {
  $('result').textContent = result;
  const s = $('status');
  s.textContent = status;
  s.className = kind;
}

const parse = (id: string): number[] =>
  $<HTMLTextAreaElement>(id)
    .value.split(/[\s,;[\]]+/)
    .filter(Boolean)
    .map(Number);

function vectors(): string {
  return JSON.stringify({ a: parse('a'), b: parse('b') });
}

/** The GET form of the same call; each number is encoded (`1e+21` must not turn into a space). */
function pageUrl(): string {
  const list = (id: string) =>
    parse(id)
      .map((n) => encodeURIComponent(String(n)))
      .join(',');
  return `/v1/similarity?a=${list('a')}&b=${list('b')}`;
}

function updatePageLink(): void {
  $<HTMLAnchorElement>('open-page').href = pageUrl();
}

function request(): [string, RequestInit] {
  if ($<HTMLInputElement>('binary').checked) {
    // The pair route takes the batch format with one row: a is the query, b the row (float32).
    const body = encodeF32Batch({ query: parse('a'), vectors: [parse('b')] });
    return ['/v1/similarity', { method: 'POST', headers: { 'content-type': F32_BATCH_CONTENT_TYPE }, body }];
  }
  return ['/v1/similarity', { method: 'POST', headers: { 'content-type': 'application/json' }, body: vectors() }];
}

async function showAnswer(res: Response, how: string): Promise<void> {
  const body: unknown = await res.json().catch(() => null);
  if (res.ok && body && typeof body === 'object' && 'similarity' in body) {
    show(`similarity = ${Number((body as { similarity: number }).similarity).toFixed(6)}`, how, 'ok');
  } else {
    const msg = (body as { error?: { message?: string } } | null)?.error?.message ?? res.statusText;
    show(`HTTP ${res.status}`, msg, 'err');
  }
}

async function busy(button: HTMLButtonElement, work: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    show('Failed', errorMessage(e), 'err');
    log(`error: ${e instanceof Error ? e.message : e}`);
  } finally {
    button.disabled = false;
  }
}

async function computeWithWebln(): Promise<void> {
  const webln = window.webln;
  if (!webln) {
    show('No WebLN wallet', 'Install a WebLN wallet (or enable the extension’s window.webln) and reload.', 'err');
    return;
  }
  let paid = 0;
  const [url, init] = request();
  show('…', 'calling the API');
  try {
    const res = await fetchWithL402(url, init, {
      wallet: webln,
      tokenStore,
      maxAmountSat: Number($<HTMLInputElement>('max').value) || 100,
      onChallenge: (c) => {
        log(`402: ${c.amountSat} sats (${SCHEME_NAMES[c.scheme]}), invoice ${c.invoice.slice(0, 24)}…`);
        paid = c.amountSat;
        return true;
      },
    });
    await showAnswer(res, paid ? `paid ${paid} sats with WebLN` : 'used a stored token: nothing paid');
    log(`${res.status} ${paid ? `after paying ${paid} sats` : 'with a stored token'}`);
  } catch (e) {
    if (isL402FetchError(e)) {
      show(`Not paid (${e.code})`, e.message, 'err');
      log(`L402FetchError ${e.code}: ${e.message}`);
      return;
    }
    throw e;
  }
}

async function computeWithPlainFetch(): Promise<void> {
  const [url, init] = request();
  show('…', 'calling the API with plain fetch');
  const res = await fetch(url, init);
  if (res.status === 402) {
    const challenge = res.headers.get('www-authenticate') ?? '';
    const offers = [
      ...(/\b(L402|LSAT) /.test(challenge) ? ['an L402 challenge'] : []),
      ...(/(^|,\s*)Payment /.test(challenge) ? ['a Payment charge'] : []),
      ...(res.headers.get('payment-required') ? ['an x402 offer'] : []),
    ];
    show(
      '402 Payment Required',
      'No extension paid this request. With L402 Autopilot installed, this button just works.',
      'err',
    );
    log(`402 with ${offers.join(' and ') || 'no offer this page knows'}`);
    return;
  }
  await showAnswer(res, 'plain fetch: the extension handled the 402 (or a token was already attached)');
  log(`plain fetch → ${res.status}`);
}

async function loadPrice(): Promise<void> {
  try {
    const doc = (await (await fetch('/v1/pricing')).json()) as {
      routes?: { path: string; price_msat?: number }[];
      auth_schemes?: string[];
    };
    const pair = doc.routes?.find((r) => r.path === '/v1/similarity');
    $('price').innerHTML = '';
    const strong = document.createElement('strong');
    strong.textContent = pair?.price_msat ? `${Math.ceil(pair.price_msat / 1000)} sats` : 'unknown';
    $('price').append('Price per call: ', strong);
    const offered = (doc.auth_schemes ?? []).map((x) => SCHEME_NAMES[x as keyof typeof SCHEME_NAMES] ?? x);
    if (offered.length > 0) $('price').append(` · offered as ${offered.join(', ')}`);
  } catch {
    $('price').textContent = 'Price: /v1/pricing is not reachable';
  }
}

function pickSample(i: number): void {
  const s = SAMPLES[i];
  if (!s) return;
  $<HTMLTextAreaElement>('a').value = s.a.join(', ');
  $<HTMLTextAreaElement>('b').value = s.b.join(', ');
  updatePageLink();
}

// Buttons must not have id="webln": named element access would make `window.webln` the button.
function showWallet(): void {
  $('wallet').textContent = window.webln ? 'window.webln found' : 'no window.webln on this page';
}

function init(): void {
  const select = $<HTMLSelectElement>('sample');
  for (const [i, s] of SAMPLES.entries()) select.add(new Option(s.name, String(i)));
  select.addEventListener('change', () => pickSample(Number(select.value)));
  for (const id of ['a', 'b']) $(id).addEventListener('input', updatePageLink);
  pickSample(0);
  const webln = $<HTMLButtonElement>('pay-webln');
  const plain = $<HTMLButtonElement>('pay-plain');
  webln.addEventListener('click', () => busy(webln, computeWithWebln));
  plain.addEventListener('click', () => busy(plain, computeWithPlainFetch));
  $('forget').addEventListener('click', async () => {
    for (const t of await tokenStore.list(location.origin)) await tokenStore.remove(t.origin, t.paymentHash);
    log('stored tokens deleted');
  });
  // Providers may inject after us: WebLN wallets announce themselves with `webln:ready`.
  window.addEventListener('webln:ready', showWallet);
  showWallet();
  void loadPrice();
}

init();
