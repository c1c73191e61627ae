// The demo page's markup and styles (light/dark via prefers-color-scheme). Behaviour lives in page-script.ts.

const CSS = `
:root { color-scheme: light dark; --bg: #f7f7f5; --fg: #1d1d1f; --muted: #6b6b70; --card: #fff; --line: #e2e2e0;
  --accent: #f7931a; --accent-fg: #1d1d1f; --ok: #1a7f37; --err: #b42318; }
@media (prefers-color-scheme: dark) { :root { --bg: #141416; --fg: #ececef; --muted: #9a9aa2; --card: #1e1e22;
  --line: #2e2e34; --ok: #4ac26b; --err: #ff6b5e; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
main { max-width: 760px; margin: 0 auto; padding: 32px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; } h1 span { color: var(--accent); }
p.lead { color: var(--muted); margin: 0 0 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 20px; margin-bottom: 16px; }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
textarea, select, input { width: 100%; font: 14px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--fg);
  background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
textarea { min-height: 64px; resize: vertical; }
.row { display: flex; gap: 12px; flex-wrap: wrap; align-items: end; } .row > * { flex: 1 1 180px; }
.buttons { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 16px; }
button { font: inherit; font-weight: 600; border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
  cursor: pointer; background: var(--card); color: var(--fg); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-fg); }
button:disabled { opacity: .55; cursor: progress; }
.price { font-size: 1.1rem; } .price strong { color: var(--accent); }
#result { font-size: 1.25rem; font-weight: 700; min-height: 1.5em; }
#status { color: var(--muted); min-height: 1.5em; } .ok { color: var(--ok); } .err { color: var(--err); }
#log { font: 12px/1.5 ui-monospace, monospace; color: var(--muted); white-space: pre-wrap; max-height: 220px;
  overflow: auto; margin: 0; }
small { color: var(--muted); }
p.open-page { margin: 14px 0 0; } p.open-page a { color: var(--accent); font-weight: 600; }
`;

/** The whole HTML document of /demo. */
export function demoHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>L402 Autopilot — similarity demo</title>
<style>${CSS}</style>
</head>
<body>
<main>
  <h1>Cosine similarity, <span>paid per call</span></h1>
  <p class="lead">This API sits behind a Lightning paywall: each call answers <code>402 Payment Required</code> with a
  Lightning invoice until you pay it — as an L402 token, the <code>Payment</code> scheme's one-time charge and/or an
  x402 Lightning offer (<code>PAYMENT-REQUIRED</code>), whichever this server offers. Pay with any WebLN wallet
  through the page toolkit, or let the L402 Autopilot extension handle a plain <code>fetch</code>.</p>

  <section class="card">
    <div class="row">
      <div><label for="sample">Samples</label>
        <select id="sample"></select></div>
      <div><label for="max">Pay at most (sats)</label>
        <input id="max" type="number" min="1" value="100"></div>
    </div>
    <label for="a">Vector a</label>
    <textarea id="a" spellcheck="false"></textarea>
    <label for="b">Vector b</label>
    <textarea id="b" spellcheck="false"></textarea>
    <p class="price" id="price">Price: …</p>
    <p><label><input id="binary" type="checkbox"> send as a binary float32 body
      (<code>application/vnd.l402.f32-batch</code>, the toolkit's <code>encodeF32Batch</code>)</label></p>
    <div class="buttons">
      <button class="primary" id="pay-webln">Compute with WebLN</button>
      <button id="pay-plain">Compute with plain fetch</button>
      <button id="forget" title="Delete the tokens this page stored">Forget tokens</button>
    </div>
    <p class="open-page"><a id="open-page" href="/v1/similarity?a=1,2,3&amp;b=4,5,6">Open as a page</a>
      <small>— the same call as a top-level navigation (<code>GET /v1/similarity?a=…&amp;b=…</code>): with
      L402 Autopilot the browser pays the page's 402 and reloads it with the answer.</small></p>
  </section>

  <section class="card" aria-live="polite">
    <div id="result"></div>
    <div id="status"></div>
  </section>

  <section class="card">
    <small>Wallet: <span id="wallet">looking for window.webln…</span></small>
    <pre id="log"></pre>
  </section>
</main>
<script type="module" src="/demo/app.js"></script>
</body>
</html>`;
}
