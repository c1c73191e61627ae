// Session storage cannot be filled by a server (docs/security.md "Session storage"): a server answering a page's
// requests with huge L402-looking challenges must not grow storage.session (which holds prompts, seen-challenge
// records and header-rule bookkeeping for every tab), and the next real question still reaches the user.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { startL402Service } from './fixtures/security-servers.ts';
import { nextPrompt, nwcSettings } from './helpers.ts';

/** L402-looking challenge lines that never parse (junk invoice): over the parser's size limit, and just under it. */
const HUGE = `L402 macaroon="${'A'.repeat(200_000)}", invoice="lnbcrt1junk"`;
const LARGE = `L402 macaroon="${'A'.repeat(60_000)}", invoice="lnbcrt1junk"`;
const FLOOD = 60;

describe('security: a server cannot fill session storage', () => {
  const suite = extensionSuite();
  const { ui, closers } = suite;

  it('huge challenges, on one URL and on many, leave storage.session small, and the next prompt still opens', async () => {
    const flood = createServer((req, res) => {
      if (req.url === '/page')
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<title>flood</title>');
      // Half the flood hits one URL, half a new URL each time.
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'));
      res.writeHead(402, { 'www-authenticate': n % 2 ? HUGE : LARGE, 'content-type': 'text/plain' }).end('pay');
    });
    await new Promise<void>((r) => flood.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => flood.close(r)));
    const floodUrl = `http://127.0.0.1:${(flood.address() as AddressInfo).port}`;
    const api = await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 1_000 });
    closers.push(() => api.close());
    await ui('saveSettings', nwcSettings([]));

    const page = await suite.ext.page();
    await page.goto(`${floodUrl}/page`);
    await page.evaluate(async (n) => {
      for (let i = 0; i < n; i++) await fetch(i % 2 ? `/x?n=${i}` : `/same?n=${i % 4}`).catch(() => {});
    }, FLOOD);
    // The background handles each 402 after the page got it: give the last ones time to land (or not).
    await new Promise((r) => setTimeout(r, 2_000));
    const bytes = await suite.ext.worker.evaluate(() => chrome.storage.session.getBytesInUse(null));
    expect(bytes).toBeLessThan(256 * 1024);

    // A real question afterwards: its prompt is stored in storage.session, and must still open.
    const other = await suite.ext.page();
    await other.goto(`${api.url}/page`);
    const asked = nextPrompt(suite.ext, 20_000);
    const call = other.evaluate(() => fetch('/paid').then((r) => r.status));
    const prompt = await asked;
    expect(await ui('getPrompt', { id: prompt.id })).toMatchObject({ origin: api.url, amountMsat: 1_000 });
    expect(await ui('answerPrompt', { id: prompt.id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
    expect(await call).toBe(402);
    await page.close();
    await other.close();
  });
});
