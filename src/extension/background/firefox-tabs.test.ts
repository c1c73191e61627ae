import { describe, expect, it } from 'vitest';
import { on402 } from './detector.ts';
import { firefoxTabMemory } from './firefox-tabs.ts';
import { memoryStorage } from './storage.ts';

const API = 'https://api.example';

describe('Firefox tab memory (what a tab showed, for navigations with no originUrl)', () => {
  it('survives the background unloading: a new instance over the same session storage reads the same tabs', async () => {
    const storage = memoryStorage();
    const first = firefoxTabMemory(storage, async () => false);
    await first.opened(7);
    await first.showed(8, 'https://evil.example');
    // The event page unloads; the next one reads storage.session again.
    const next = firefoxTabMemory(storage, async () => false);
    expect(await next.before(7)).toEqual({ openedByPage: true, lastOrigin: undefined });
    expect(await next.before(8)).toEqual({ openedByPage: false, lastOrigin: 'https://evil.example' });
    // Showing a document ends "opened by a page"; closing the tab forgets it.
    await next.showed(7, API);
    expect(await next.before(7)).toEqual({ openedByPage: false, lastOrigin: API });
    await next.forget(7);
    expect(await next.before(7)).toEqual({ openedByPage: false, lastOrigin: undefined });
  });

  it('a tab with no record asks the browser whether a page opened it (and a failing lookup means no)', async () => {
    const mem = firefoxTabMemory(memoryStorage(), async (tabId) => {
      if (tabId === 3) throw new Error('no such tab');
      return tabId === 2;
    });
    expect((await mem.before(2)).openedByPage).toBe(true);
    expect((await mem.before(1)).openedByPage).toBe(false);
    expect((await mem.before(3)).openedByPage).toBe(false);
  });

  it("the detector: a navigation with no originUrl in a tab that showed another site is paid as an opaque page's", async () => {
    const tabs = firefoxTabMemory(memoryStorage(), async () => false);
    const payers: string[] = [];
    const deps = {
      firefoxTabs: tabs,
      countChallenge: async () => {},
      remember: async () => {},
      resetTab: async () => {},
      pageChanged: async () => {},
      existingRule: async () => null,
      sentWith: () => undefined,
      tokenRejected: async () => {},
      addRule: async () => {},
      navigate: async () => {},
      topOrigin: async () => 'null',
      report: () => {},
      handle: async (r: { initiator: string }) => {
        payers.push(r.initiator);
        return { authorization: 'L402 m:00', origin: API, pathPrefix: '/', paymentHash: 'h', validUntil: null };
      },
    } as unknown as Parameters<typeof on402>[0];
    const nav = (url: string, statusCode: number, headers: { name: string; value: string }[] = []) =>
      on402(deps, {
        tabId: 5,
        frameId: 0,
        requestId: 'r',
        url,
        type: 'main_frame',
        statusCode,
        responseHeaders: headers,
      } as unknown as chrome.webRequest.OnHeadersReceivedDetails);
    const challenge = [{ name: 'www-authenticate', value: 'L402 macaroon="bWFj", invoice="lnbcrt1"' }];
    // A fresh tab: the browser's own (typed, bookmark) — the service's.
    await nav(`${API}/paid`, 402, challenge);
    // The tab shows another site, then something with no origin moves it to the service: opaque.
    await nav('https://evil.example/', 200);
    await nav(`${API}/paid`, 402, challenge);
    expect(payers).toEqual([API, 'null']);
  });
});
