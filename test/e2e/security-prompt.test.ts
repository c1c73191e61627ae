// Prompt keyjacking (docs/security.md "Prompt keyjacking"): a page that keeps the user typing cannot turn the
// keys into an approval. The page fires a 500-sat 402 over a 10-sat per-payment cap at the first keystroke; the
// keys go on into the prompt window that opens, every ~150 ms, well past its arming time. Real browser, real
// regtest invoices (alice), NWC to bob: an approval here would be a real payment.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { lndBackend } from '../../server/lightning/lnd-backend.ts';
import { lnd } from '../integration/regtest-context.ts';
import { extensionSuite } from './fixtures/extension-suite.ts';
import { type L402TestServer, startL402Service } from './fixtures/security-servers.ts';
import { autoPay, nwcSettings } from './helpers.ts';

const PRICE_MSAT = 500_000;
const CAP_MSAT = 10_000;
/** Well past the prompt's arming delay: keys keep coming while it is armed. */
const KEYS_INTO_PROMPT = 24;
const KEY_GAP_MS = 150;

describe('security: the prompt cannot be approved by keys meant for the page', () => {
  const suite = extensionSuite();
  const { ui, closers } = suite;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** A service page with a "chat box" whose first keystroke fetches a priced URL (the attack's trigger). */
  const trap = async (): Promise<{ api: L402TestServer; page: Page }> => {
    const api = await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: PRICE_MSAT });
    closers.push(() => api.close());
    const settings = nwcSettings([autoPay(api.url)]);
    await ui('saveSettings', { ...settings, rules: { ...settings.rules, perPaymentCapMsat: CAP_MSAT } });
    const page = await suite.ext.page();
    await page.goto(`${api.url}/page`);
    await page.evaluate(() => {
      const box = document.createElement('textarea');
      document.body.append(box);
      box.focus();
      let fired = false;
      box.addEventListener('keydown', () => {
        if (fired) return;
        fired = true;
        void fetch('/paid').catch(() => {});
      });
    });
    return { api, page };
  };

  const promptOpened = () =>
    suite.ext.context.waitForEvent('page', { predicate: (p) => p.url().includes('/ui/prompt/'), timeout: 30_000 });

  /** Nothing was paid (or is being paid) and the prompt is still waiting: nobody answered it. */
  const expectNothingApproved = async (api: L402TestServer, id: string) => {
    const payments = await ui('listPayments', { origin: api.url });
    expect(payments.map((p) => `${p.amountMsat / 1000} sats ${p.status}`)).toEqual([]);
    expect(await ui('getPrompt', { id })).toMatchObject({ origin: api.url, amountMsat: PRICE_MSAT });
    expect(await ui('answerPrompt', { id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
  };

  it('keys typed into the page and on into the prompt every ~150 ms approve nothing', async () => {
    const { api, page } = await trap();
    const opened = promptOpened();
    let prompt: Page | null = null;
    void opened.then((p) => {
      prompt = p;
    });
    // Typing into the page until the prompt window shows up (it opens focused, as the real one does).
    const keys = ['h', 'Enter', 'i', ' ', 'Enter', 'Enter'];
    let i = 0;
    while (!prompt) {
      await page.keyboard.press(keys[i++ % keys.length] ?? 'Enter');
      await sleep(KEY_GAP_MS);
      if (i > 200) throw new Error('no prompt window opened');
    }
    const target = prompt as Page;
    const id = new URL(target.url()).searchParams.get('id') ?? '';
    await target.waitForLoadState('domcontentloaded');
    // The same rhythm goes on into the prompt.
    for (let n = 0; n < KEYS_INTO_PROMPT && !target.isClosed(); n++) {
      await target.keyboard.press(keys[i++ % keys.length] ?? 'Enter').catch(() => {});
      await sleep(KEY_GAP_MS);
    }
    await expectNothingApproved(api, id);
    await page.close();
  });

  it('a held-down Enter (every key the prompt sees is an autorepeat) approves nothing', async () => {
    const { api, page } = await trap();
    const opened = promptOpened();
    await page.keyboard.down('Enter'); // the user holds Enter in the chat box; the first keydown fires the 402
    const prompt = await opened;
    const id = new URL(prompt.url()).searchParams.get('id') ?? '';
    await prompt.waitForLoadState('domcontentloaded');
    // What the OS sends while a key stays down: keydowns flagged as repeats (and their keypress), no keyup.
    const cdp = await suite.ext.context.newCDPSession(prompt);
    const enter = {
      key: 'Enter',
      code: 'Enter',
      windowsVirtualKeyCode: 13,
      nativeVirtualKeyCode: 13,
      autoRepeat: true,
    };
    for (let n = 0; n < 60 && !prompt.isClosed(); n++) {
      await cdp
        .send('Input.dispatchKeyEvent', { type: 'keyDown', ...enter, text: '\r', unmodifiedText: '\r' })
        .catch(() => {});
      await sleep(50);
    }
    await cdp.detach().catch(() => {});
    await page.keyboard.up('Enter');
    await expectNothingApproved(api, id);
    await page.close();
  });

  it('the next queued prompt, opening under the keys that follow an approval, approves nothing', async () => {
    const { api, page } = await trap();
    // A second service, so the first payment's token does not cover the second request.
    const other = await startL402Service({ backend: lndBackend(lnd('alice')), priceMsat: PRICE_MSAT });
    closers.push(() => other.close());
    const first = promptOpened();
    // Two priced requests at once from one site: its prompts are asked one at a time (a deny answers both).
    await page.evaluate((u) => {
      void fetch('/paid').catch(() => {});
      void fetch(u).catch(() => {});
    }, `${other.url}/paid`);
    const one = await first;
    const approve = one.getByRole('button', { name: /Approve once/ });
    await expect.poll(() => approve.isEnabled()).toBe(true);
    const second = promptOpened();
    await approve.click(); // the user means this one
    const two = await second;
    const id = new URL(two.url()).searchParams.get('id') ?? '';
    // ... and goes on typing, Enter and Space included, into the window that replaced it.
    for (let n = 0; n < KEYS_INTO_PROMPT && !two.isClosed(); n++) {
      await two.keyboard.press(n % 2 ? 'Enter' : ' ').catch(() => {});
      await sleep(KEY_GAP_MS);
    }
    const paid = async () =>
      [...(await ui('listPayments', { origin: api.url })), ...(await ui('listPayments', { origin: other.url }))].map(
        (p) => `${p.amountMsat / 1000} sats ${p.status}`,
      );
    await expect.poll(paid, { timeout: 30_000 }).toEqual(['500 sats succeeded']);
    expect(await ui('getPrompt', { id })).toMatchObject({ initiator: api.url, amountMsat: PRICE_MSAT });
    expect(await ui('answerPrompt', { id, answer: { choice: 'deny' } })).toEqual({ accepted: true });
    await page.close();
  });

  it('a mouse press that began before the prompt armed does not approve when released after', async () => {
    const { api, page } = await trap();
    const opened = promptOpened();
    await page.keyboard.press('x');
    const prompt = await opened;
    const id = new URL(prompt.url()).searchParams.get('id') ?? '';
    const approve = prompt.getByRole('button', { name: /Approve once/ });
    const box = await approve.boundingBox();
    if (!box) throw new Error('no Approve button');
    await prompt.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await prompt.mouse.down();
    await expect.poll(() => approve.isEnabled()).toBe(true);
    await sleep(300);
    await prompt.mouse.up();
    await sleep(500);
    await expectNothingApproved(api, id);
    await page.close();
  });

  it('a deliberate click after the prompt armed still approves (and pays)', async () => {
    const { api, page } = await trap();
    const opened = promptOpened();
    await page.keyboard.press('x');
    const prompt = await opened;
    const approve = prompt.getByRole('button', { name: /Approve once/ });
    await expect.poll(() => approve.isEnabled()).toBe(true);
    const closed = prompt.waitForEvent('close');
    await approve.click();
    await closed;
    await expect
      .poll(
        async () => (await ui('listPayments', { origin: api.url })).filter((p) => p.status === 'succeeded').length,
        { timeout: 30_000 },
      )
      .toBe(1);
    await page.close();
  });
});
