// Security review (docs/design.md#secure): a token (Authorization: L402 …) reaches only the page that paid for it and
// only the service it was bought from — not a later page in the same tab, not a third-party frame, not the
// target of a redirect. Real browser, real regtest payments (alice's invoices, NWC → bob).
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { startL402Service, startSink, type TestServer } from './fixtures/security-servers.ts';
import { autoPay, nextPrompt, nwcSettings } from './helpers.ts';

describe('security: where a token goes', () => {
  const suite = extensionSuite();
  const { ui } = suite;
  const service = async () =>
    suite.track(await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: 2_000 }));
  const sink = async () => suite.track(await startSink());
  const succeeded = async (origin: string) =>
    (await ui('listPayments', { origin })).filter((p) => p.status === 'succeeded');
  const withAuth = (s: TestServer, path: string) =>
    s.requests.filter((r) => r.path.startsWith(path) && r.authorization !== null);

  /**
   * Another page's request to the service: it has no budget (budgets belong to the page, docs/design.md#the-extension), so the user is asked, about that page paying that service; denied here.
   */
  const denyPromptFor = async (initiator: string, service: string) => {
    const prompt = await nextPrompt(suite.ext);
    expect(await ui('getPrompt', { id: prompt.id })).toMatchObject({ origin: service, initiator });
    expect(await ui('answerPrompt', { id: prompt.id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
  };

  /** A page at `site` (with an auto-pay budget) fetches the service cross-origin (challenge hidden): the background pays and adds a header rule. */
  const buyCrossOrigin = async (api: TestServer, site: TestServer) => {
    await ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await suite.ext.page();
    await page.goto(`${site.url}/page`);
    // The page's first call already resolves with the paid 200 (its wrapper retries once the rule is in place).
    expect(await page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
    await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBe(1);
    await expect
      .poll(() => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`), { timeout: 30_000 })
      .toBe(200);
    return page;
  };

  it("a later site in the same tab does not get the paying page's header on its requests to the service", async () => {
    const api = await service();
    const site = await sink();
    const evil = await sink();
    const page = await buyCrossOrigin(api, site);
    const before = withAuth(api, '/paid').length;
    await page.goto(`${evil.url}/page`);
    const asked = denyPromptFor(evil.url, api.url);
    const got = await page.evaluate(
      (u) => fetch(u).then(async (r) => ({ status: r.status, body: await r.text() })),
      `${api.url}/paid`,
    );
    expect(got.status).toBe(402);
    await asked;
    expect(withAuth(api, '/paid').length).toBe(before);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it("a third-party frame inside the paying page does not get the page's header", async () => {
    const api = await service();
    const evil = await sink();
    const site = await sink();
    await ui('saveSettings', nwcSettings([autoPay(site.url)]));
    const page = await suite.ext.page();
    // DNR matches a request's initiator by host only, so the third party is on another host (as frames are).
    const evilUrl = evil.url.replace('127.0.0.1', 'localhost');
    await page.goto(`${site.url}/page?frame=${encodeURIComponent(`${evilUrl}/page`)}`);
    // The page's first call already resolves with the paid 200 (its wrapper retries once the rule is in place).
    expect(await page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(200);
    await expect.poll(async () => (await succeeded(api.url)).length, { timeout: 30_000 }).toBe(1);
    await expect
      .poll(() => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`), { timeout: 30_000 })
      .toBe(200);
    const before = withAuth(api, '/paid').length;
    const frame = page.frames().find((f) => f.url().startsWith(evilUrl));
    if (!frame) throw new Error('no third-party frame');
    // The frame's own request is its own: no header, and the page's budget does not pay for it (asked, denied).
    const asked = denyPromptFor(evilUrl, api.url);
    expect(await frame.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`)).toBe(402);
    await asked;
    expect(withAuth(api, '/paid').length).toBe(before);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it('a token the service stops honouring is forgotten: its header stops, and no second payment is made at once', async () => {
    const api = await service();
    const site = await sink();
    const page = await buyCrossOrigin(api, site);
    const [paid] = await succeeded(api.url);
    expect((await ui('listTokens', {})).map((t) => t.paymentHash)).toContain(paid?.paymentHash);
    api.rotateRootKey();
    const status = () => page.evaluate((u) => fetch(u).then((r) => r.status), `${api.url}/paid`);
    expect(await status()).toBe(402);
    await expect
      .poll(async () => (await ui('listTokens', {})).map((t) => t.paymentHash))
      .not.toContain(paid?.paymentHash);
    const sent = api.requests.length;
    expect(await status()).toBe(402);
    expect(api.requests.slice(sent).every((r) => r.authorization === null)).toBe(true);
    expect(await succeeded(api.url)).toHaveLength(1);
    await page.close();
  });

  it('a header rule for cross-origin requests does not follow a redirect to another origin', async () => {
    const api = await service();
    const site = await sink();
    const out = await sink();
    const page = await buyCrossOrigin(api, site);
    await page.evaluate(
      (u) => fetch(u).then((r) => r.status),
      `${api.url}/go?to=${encodeURIComponent(`${out.url}/xhr-leak`)}`,
    );
    expect(withAuth(api, '/go')).toHaveLength(1);
    expect(out.requests.some((r) => r.path === '/xhr-leak')).toBe(true);
    expect(withAuth(out, '/xhr-leak')).toEqual([]);
    await page.close();
  });

  it('a navigation header rule does not follow a redirect to another origin', async () => {
    const api = await service();
    const out = await sink();
    await ui('saveSettings', nwcSettings([autoPay(api.url)]));
    const page = await suite.ext.page();
    await page.goto(`${api.url}/paid`).catch(() => {});
    await expect.poll(() => page.content(), { timeout: 30_000 }).toContain('paid content');
    await page.goto(`${api.url}/go?to=${encodeURIComponent(`${out.url}/nav-leak`)}`);
    expect(withAuth(api, '/go')).toHaveLength(1);
    expect(out.requests.some((r) => r.path === '/nav-leak')).toBe(true);
    expect(withAuth(out, '/nav-leak')).toEqual([]);
    await page.close();
  });

  it("the page wrapper's header does not follow a redirect to another origin (fetch and XHR)", async () => {
    const api = await service();
    const out = await sink();
    await ui('saveSettings', nwcSettings([autoPay(api.url)]));
    const page = await suite.ext.page();
    await page.goto(`${api.url}/page`);
    expect(await page.evaluate(() => fetch('/paid').then((r) => r.status))).toBe(200);
    await page.evaluate((u) => fetch(`/go?to=${encodeURIComponent(u)}`).then((r) => r.status), `${out.url}/fetch-leak`);
    await page.evaluate(
      (u) =>
        new Promise<number>((resolve) => {
          const x = new XMLHttpRequest();
          x.open('GET', `/go?to=${encodeURIComponent(u)}`);
          x.onloadend = () => resolve(x.status);
          x.send();
        }),
      `${out.url}/xhr-leak`,
    );
    expect(withAuth(api, '/go')).toHaveLength(2);
    expect(out.requests.map((r) => r.path)).toEqual(expect.arrayContaining(['/fetch-leak', '/xhr-leak']));
    expect(out.requests.filter((r) => r.authorization !== null)).toEqual([]);
    await page.close();
  });
});
