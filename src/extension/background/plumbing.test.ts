// Unit tests of the plumbing's pure parts: which 402s the background handles, DNR rule scoping, senders.
import { describe, expect, it } from 'vitest';
import { type DetectorDeps, on402, pageCanSeeChallenge } from './detector.ts';
import {
  addHeaderRule,
  dropRulesOfOtherPages,
  isSafeHeaderValue,
  removeHeaderRules,
  headerRuleFor,
  scopeRegex,
  sweepExpiredRules,
} from './header-rules.ts';
import { senderContext, uiSenderOk } from './senders.ts';
import { memoryStorage } from './storage.ts';

const seen = (initiator: string | undefined, headers: [string, string][], paymentRequired?: string) => ({
  url: 'https://api.example/v1/x',
  tabId: 1,
  type: 'xmlhttprequest',
  initiator,
  wwwAuthenticate: [],
  ...(paymentRequired ? { paymentRequired } : {}),
  headers: headers.map(([name, value]) => ({ name, value })),
});

describe('detector: who handles a 402', () => {
  it('leaves same-origin and CORS-exposed challenges to the MAIN-world wrapper', () => {
    expect(pageCanSeeChallenge(seen('https://api.example', []))).toBe(true);
    expect(
      pageCanSeeChallenge(
        seen('https://app.example', [
          ['Access-Control-Allow-Origin', '*'],
          ['Access-Control-Expose-Headers', 'Content-Type, WWW-Authenticate'],
        ]),
      ),
    ).toBe(true);
  });
  it('takes cross-origin challenges the page cannot read', () => {
    expect(pageCanSeeChallenge(seen('https://app.example', []))).toBe(false);
    expect(pageCanSeeChallenge(seen('https://app.example', [['access-control-allow-origin', '*']]))).toBe(false);
    expect(
      pageCanSeeChallenge(
        seen('https://app.example', [
          ['access-control-allow-origin', 'https://other.example'],
          ['access-control-expose-headers', '*'],
        ]),
      ),
    ).toBe(false);
  });
});

describe('detector: challenges a page script cannot read whatever CORS says', () => {
  const split = ['www-authenticate', 'LSAT macaroon="m", invoice="i"\nL402 macaroon="m", invoice="i"'] as [
    string,
    string,
  ];
  it('takes a WWW-Authenticate that Firefox joined from several lines (pages get no such header), same-origin too', () => {
    expect(pageCanSeeChallenge(seen('https://api.example', [split]))).toBe(false);
    expect(
      pageCanSeeChallenge(
        seen('https://app.example', [
          split,
          ['access-control-allow-origin', '*'],
          ['access-control-expose-headers', 'WWW-Authenticate'],
        ]),
      ),
    ).toBe(false);
    // One line each, as Chromium lists them: readable.
    expect(
      pageCanSeeChallenge(
        seen('https://api.example', [
          ['www-authenticate', 'LSAT macaroon="m", invoice="i"'],
          ['www-authenticate', 'L402 macaroon="m", invoice="i"'],
        ]),
      ),
    ).toBe(true);
  });
  it("x402: PAYMENT-REQUIRED must be exposed to another origin's script; WWW-Authenticate need not be when absent", () => {
    const cors: [string, string] = ['access-control-allow-origin', '*'];
    expect(pageCanSeeChallenge(seen('https://app.example', [cors], 'eyJ9'))).toBe(false);
    expect(
      pageCanSeeChallenge(
        seen('https://app.example', [cors, ['access-control-expose-headers', 'PAYMENT-REQUIRED']], 'eyJ9'),
      ),
    ).toBe(true);
    // Both sent: both must be readable.
    expect(
      pageCanSeeChallenge(
        seen(
          'https://app.example',
          [
            cors,
            ['www-authenticate', 'L402 macaroon="m", invoice="i"'],
            ['access-control-expose-headers', 'PAYMENT-REQUIRED'],
          ],
          'eyJ9',
        ),
      ),
    ).toBe(false);
  });
});

describe('header rules', () => {
  it('scope regex is exact origin + segment-wise prefix', () => {
    const re = new RegExp(scopeRegex('https://api.example', '/v1'));
    expect(re.test('https://api.example/v1')).toBe(true);
    expect(re.test('https://api.example/v1/x?y')).toBe(true);
    expect(re.test('https://api.example/v10')).toBe(false);
    expect(re.test('https://api.example.evil/v1')).toBe(false);
    expect(re.test('http://api.example/v1')).toBe(false);
    expect(new RegExp(scopeRegex('http://127.0.0.1:8080', '/')).test('http://127.0.0.1:80800/')).toBe(false);
  });
  it('refuses header values with CR/LF', () => {
    expect(isSafeHeaderValue('L402 abc:def')).toBe(true);
    expect(isSafeHeaderValue('L402 abc\r\nX-Evil: 1')).toBe(false);
  });
  it('adds tab-scoped rules, replaces the same scope, sweeps expired ones', async () => {
    const calls: unknown[] = [];
    let now = 1000;
    const deps = {
      dnr: { updateSessionRules: async (o: unknown) => void calls.push(o) },
      storage: memoryStorage(),
      clock: () => now,
    };
    const base = {
      tabId: 7,
      origin: 'https://api.example',
      pathPrefix: '/',
      resourceTypes: ['main_frame' as const],
      initiator: null,
      paymentHash: 'aa',
      expiresAt: 2000,
    };
    const a = await addHeaderRule(deps, { ...base, authorization: 'L402 a:1' });
    const b = await addHeaderRule(deps, { ...base, authorization: 'L402 b:2' });
    expect(b.id).toBe(a.id);
    expect(JSON.stringify(calls[1])).toContain('"tabIds":[7]');
    expect(await headerRuleFor(deps, 7, 'https://api.example/page', 'main_frame')).toMatchObject({
      authorization: 'L402 b:2',
    });
    expect(await headerRuleFor(deps, 8, 'https://api.example/page', 'main_frame')).toBeNull();
    await expect(addHeaderRule(deps, { ...base, authorization: 'L402 a\nb' })).rejects.toThrow(/unsafe/);
    now = 2000;
    expect(await sweepExpiredRules(deps)).toBe(1);
    expect(await removeHeaderRules(deps, () => true)).toBe(0);
  });
  // Security review: a rule for a cross-origin request served its whole tab (a third-party frame, the next
  // site in the tab) and a 402 to ANY page of the tab counted as the token being refused.
  it("a cross-origin request rule serves only its page: initiator host in DNR, the page's origin in headerRuleFor", async () => {
    const calls: { addRules?: { condition: Record<string, unknown> }[] }[] = [];
    const deps = {
      dnr: { updateSessionRules: async (o: never) => void calls.push(o) },
      storage: memoryStorage(),
      clock: () => 0,
    };
    const rule = {
      tabId: 7,
      origin: 'https://api.example',
      pathPrefix: '/',
      resourceTypes: ['xmlhttprequest' as const],
      initiator: 'https://app.example:8443',
      authorization: 'L402 a:1',
      paymentHash: 'aa',
      expiresAt: null,
    };
    await addHeaderRule(deps, rule);
    expect(calls[0]?.addRules?.[0]?.condition).toMatchObject({ tabIds: [7], initiatorDomains: ['app.example'] });
    expect(
      await headerRuleFor(deps, 7, 'https://api.example/x', 'xmlhttprequest', 'https://app.example:8443'),
    ).toMatchObject({ authorization: 'L402 a:1' });
    expect(await headerRuleFor(deps, 7, 'https://api.example/x', 'xmlhttprequest', 'https://evil.example')).toBeNull();
    await addHeaderRule(deps, { ...rule, resourceTypes: ['main_frame'], initiator: null, authorization: 'L402 n:1' });
    expect(calls[1]?.addRules?.[0]?.condition).not.toHaveProperty('initiatorDomains');
    // The tab moves on to another site: the page's rule goes, the navigation rule (the service's own page) stays.
    expect(await dropRulesOfOtherPages(deps, 7, 'https://app.example:8443')).toBe(0);
    expect(await dropRulesOfOtherPages(deps, 8, 'https://evil.example')).toBe(0);
    expect(await dropRulesOfOtherPages(deps, 7, 'https://evil.example')).toBe(1);
    expect(await headerRuleFor(deps, 7, 'https://api.example/x', 'main_frame')).toMatchObject({
      authorization: 'L402 n:1',
    });
  });
});

describe('detector: rules follow the page', () => {
  const fakeDeps = (log: string[]): DetectorDeps => ({
    countChallenge: async () => {},
    remember: async () => {},
    resetTab: async () => {},
    pageChanged: async (tabId, origin) => void log.push(`page ${tabId} ${origin}`),
    handle: async () => {
      log.push('handle');
      throw new Error('stop');
    },
    existingRule: async (_t, _u, _type, initiator) => {
      log.push(`existing ${initiator}`);
      return initiator === 'https://app.example' ? { authorization: 'L402 a:1' } : null;
    },
    sentWith: (requestId) => ({ early: null, late: 'L402 a:1', other: 'L402 b:2' })[requestId],
    tokenRejected: async () => void log.push('rejected'),
    addRule: async () => {},
    navigate: async () => {},
    topOrigin: async () => 'https://top.example',
    report: () => {},
  });
  const details = (o: Partial<chrome.webRequest.OnHeadersReceivedDetails>) =>
    ({
      tabId: 3,
      frameId: 0,
      requestId: '1',
      method: 'GET',
      timeStamp: 0,
      parentFrameId: -1,
      statusLine: '',
      ...o,
    }) as chrome.webRequest.OnHeadersReceivedDetails;
  it('whose a navigation is: the service when the browser or the service started it, else the site that sent the tab there', async () => {
    const payers: string[] = [];
    const d: DetectorDeps = {
      ...fakeDeps([]),
      handle: async (r) => {
        payers.push(r.initiator);
        throw new Error('stop');
      },
    };
    const www = [{ name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' }];
    const nav = { type: 'main_frame' as const, url: 'https://api.example/paid', statusCode: 402, responseHeaders: www };
    await on402(d, details(nav));
    await on402(d, details({ ...nav, initiator: 'https://api.example' }));
    await on402(d, details({ ...nav, initiator: 'https://evil.example' }));
    await on402(d, details({ ...nav, initiator: 'null' }));
    expect(payers).toEqual(['https://api.example', 'https://api.example', 'https://evil.example', 'null']);
  });
  it('a cross-origin XHR whose response the page cannot read, or from an opaque origin, is not paid', async () => {
    const log: string[] = [];
    const errors: string[] = [];
    const d: DetectorDeps = {
      ...fakeDeps(log),
      report: (e) => void errors.push((e as { code?: string }).code ?? 'other'),
    };
    const www = [{ name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' }];
    const xhr = { type: 'xmlhttprequest' as const, url: 'https://api.example/x', statusCode: 402 };
    await on402(d, details({ ...xhr, responseHeaders: www, initiator: 'https://app.example' }));
    await on402(
      d,
      details({
        ...xhr,
        responseHeaders: [...www, { name: 'Access-Control-Allow-Origin', value: 'https://other.example' }],
        initiator: 'https://app.example',
      }),
    );
    await on402(
      d,
      details({
        ...xhr,
        responseHeaders: [...www, { name: 'Access-Control-Allow-Origin', value: '*' }],
        initiator: 'null',
      }),
    );
    expect(log.filter((l) => l === 'handle')).toEqual([]);
    expect(errors).toEqual(['unreadable_response', 'unreadable_response', 'denied']);
    await on402(
      d,
      details({
        ...xhr,
        responseHeaders: [...www, { name: 'Access-Control-Allow-Origin', value: 'https://app.example' }],
        initiator: 'https://app.example',
      }),
    );
    expect(log.filter((l) => l === 'handle')).toEqual(['handle']);
  });
  it("a frame's request names the site the user is on (the tab's top-level page) when it is another site", async () => {
    const seen: { initiator: string; topSite?: string }[] = [];
    const d: DetectorDeps = {
      ...fakeDeps([]),
      handle: async (r) => {
        seen.push({ initiator: r.initiator, ...(r.topSite ? { topSite: r.topSite } : {}) });
        throw new Error('stop');
      },
    };
    const headers = [
      { name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' },
      { name: 'Access-Control-Allow-Origin', value: '*' },
    ];
    const xhr = {
      type: 'xmlhttprequest' as const,
      url: 'https://api.example/x',
      statusCode: 402,
      responseHeaders: headers,
    };
    await on402(d, details({ ...xhr, initiator: 'https://frame.example', frameId: 4, parentFrameId: 0 }));
    await on402(d, details({ ...xhr, initiator: 'https://top.example', frameId: 5, parentFrameId: 0 }));
    await on402(d, details({ ...xhr, initiator: 'https://top.example' }));
    expect(seen).toEqual([
      { initiator: 'https://frame.example', topSite: 'https://top.example' },
      { initiator: 'https://top.example' },
      { initiator: 'https://top.example' },
    ]);
  });
  it('a new top-level document drops the rules other pages left in the tab (not on a redirect)', async () => {
    const log: string[] = [];
    await on402(fakeDeps(log), details({ type: 'main_frame', url: 'https://evil.example/x', statusCode: 200 }));
    await on402(fakeDeps(log), details({ type: 'main_frame', url: 'https://sso.example/x', statusCode: 302 }));
    expect(log).toEqual(['page 3 https://evil.example']);
  });
  it("a 402 to another page's request is not taken as the token being refused", async () => {
    const log: string[] = [];
    // Readable cross-origin (ACAO), challenge not exposed: the detector's to handle.
    const www = [
      { name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' },
      { name: 'Access-Control-Allow-Origin', value: '*' },
    ];
    const xhr = {
      type: 'xmlhttprequest' as const,
      url: 'https://api.example/x',
      statusCode: 402,
      responseHeaders: www,
    };
    await on402(fakeDeps(log), details({ ...xhr, initiator: 'https://evil.example' }));
    await on402(fakeDeps(log), details({ ...xhr, initiator: 'https://app.example' }));
    expect(log).toEqual([
      'existing https://evil.example',
      'handle',
      'existing https://app.example',
      'rejected',
      'handle',
    ]);
  });
  it("only a 402 to a request that left with the rule's token evicts it", async () => {
    // Readable cross-origin (ACAO), challenge not exposed: the detector's to handle.
    const www = [
      { name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' },
      { name: 'Access-Control-Allow-Origin', value: '*' },
    ];
    const xhr = {
      type: 'xmlhttprequest' as const,
      url: 'https://api.example/x',
      statusCode: 402,
      responseHeaders: www,
      initiator: 'https://app.example',
    };
    const early: string[] = [];
    await on402(fakeDeps(early), details({ ...xhr, requestId: 'early' }));
    expect(early).toEqual(['existing https://app.example', 'handle']);
    const late: string[] = [];
    await on402(fakeDeps(late), details({ ...xhr, requestId: 'late' }));
    expect(late).toEqual(['existing https://app.example', 'rejected', 'handle']);
    // An older token (the rule was replaced since the request left) says nothing about the current one.
    const other: string[] = [];
    await on402(fakeDeps(other), details({ ...xhr, requestId: 'other' }));
    expect(other).toEqual(['existing https://app.example', 'handle']);
    // A restarted worker never saw the request leave: the rule matched it, so it counts as refused.
    const unknown: string[] = [];
    await on402(fakeDeps(unknown), details({ ...xhr, requestId: 'unseen' }));
    expect(unknown).toEqual(['existing https://app.example', 'rejected', 'handle']);
  });
});

describe('detector: who made the request', async () => {
  const { initiatorOf } = await import('./detector.ts');
  it("reads Chrome's initiator, or Firefox's documentUrl / originUrl", () => {
    expect(initiatorOf({ initiator: 'https://app.example' })).toBe('https://app.example');
    expect(initiatorOf({ documentUrl: 'https://app.example:8443/page?x=1', originUrl: 'https://other.example/' })).toBe(
      'https://app.example:8443',
    );
    expect(initiatorOf({ originUrl: 'https://app.example/a' })).toBe('https://app.example');
    // Opaque (data:, sandboxed): "null" as Chrome says, never "no initiator" (which would read as the service's own).
    expect(initiatorOf({ documentUrl: 'data:text/html,x' })).toBe('null');
    expect(initiatorOf({})).toBeUndefined();
    // Firefox names the browser (or an extension) for loads it starts itself: no page started them.
    expect(initiatorOf({ originUrl: 'about:blank' })).toBe('null'); // a page's own about:blank window: opaque, never "none"
    expect(
      initiatorOf({ originUrl: 'moz-extension://0d6c5f0e-1c57-4a0e-9d1f-6f7cbb0b2f11/prompt.html' }),
    ).toBeUndefined();
  });
  it('Firefox, no originUrl at all: a popup a page opened, or a tab that showed another site, is opaque', async () => {
    const { unnamedNavigation } = await import('./detector.ts');
    const api = 'https://api.example';
    // A sandboxed frame's popup: a tab another tab opened, with no document of its own yet.
    expect(unnamedNavigation({ openedByPage: true, lastOrigin: undefined }, api)).toBe('null');
    // A sandboxed frame (or a CSP-sandboxed page) moving the top window of a tab on another site.
    expect(unnamedNavigation({ openedByPage: false, lastOrigin: 'https://evil.example' }, api)).toBe('null');
    // The browser's own: a fresh tab, or a reload / typed URL on the service itself.
    expect(unnamedNavigation({ openedByPage: false, lastOrigin: undefined }, api)).toBeUndefined();
    expect(unnamedNavigation({ openedByPage: false, lastOrigin: api }, api)).toBeUndefined();
  });
});

describe('senders', () => {
  const id = 'ext-id';
  it('page identity comes from sender, top frame of a web page only', () => {
    // Chrome adds `origin` to MessageSender (not in the polyfill's type).
    const withOrigin = {
      id,
      tab: { id: 3 } as never,
      frameId: 0,
      url: 'https://site.example/a',
      origin: 'https://site.example',
    };
    expect(senderContext(withOrigin, id)).toEqual({
      pageOrigin: 'https://site.example',
      tabId: 3,
    });
    expect(senderContext({ id, tab: { id: 3 } as never, frameId: 1, url: 'https://site.example/a' }, id)).toBeNull();
    expect(
      senderContext({ id: 'other', tab: { id: 3 } as never, frameId: 0, url: 'https://site.example/a' }, id),
    ).toBeNull();
    expect(senderContext({ id, frameId: 0, url: 'https://site.example/a' }, id)).toBeNull();
  });
  it('UiApi only from extension pages', () => {
    const base = 'chrome-extension://ext-id/';
    expect(uiSenderOk({ id, url: `${base}src/extension/ui/popup/index.html` }, id, base)).toBe(true);
    expect(uiSenderOk({ id, url: 'https://site.example/', tab: { id: 1 } as never }, id, base)).toBe(false);
  });
});

describe('seen challenges', async () => {
  const { rememberChallenge, wasSeen } = await import('./seen-challenges.ts');
  it('a page may only cite a 402 the browser delivered to that tab and URL', async () => {
    const deps = { storage: memoryStorage(), clock: () => 1000, sleep: async () => {} };
    await rememberChallenge(deps, 4, 'https://api.example/x', [
      'L402 macaroon="m", invoice="i"',
      'LSAT macaroon="m", invoice="i"',
    ]);
    // fetch joins repeated headers with ", " and keeps the fragment.
    expect(
      await wasSeen(deps, 4, 'https://api.example/x#f', [
        'L402 macaroon="m", invoice="i", LSAT macaroon="m", invoice="i"',
      ]),
    ).toBe(true);
    expect(
      await wasSeen(deps, 5, 'https://api.example/x', [
        'L402 macaroon="m", invoice="i", LSAT macaroon="m", invoice="i"',
      ]),
    ).toBe(false);
    expect(
      await wasSeen(deps, 4, 'https://victim.example/x', [
        'L402 macaroon="m", invoice="i", LSAT macaroon="m", invoice="i"',
      ]),
    ).toBe(false);
    expect(await wasSeen(deps, 4, 'https://api.example/x', ['L402 macaroon="m", invoice="other"'])).toBe(false);
  });
});

describe('challenge headers as Firefox gives them', () => {
  it('one entry with "\\n"-joined lines is read as one value per line, like Chrome\'s separate entries', async () => {
    const { on402 } = await import('./detector.ts');
    const remembered: string[][] = [];
    const deps = {
      remember: async (_tab: number, _url: string, values: string[]) => {
        remembered.push(values);
      },
      countChallenge: async () => {},
      pageChanged: async () => {},
      resetTab: async () => {},
      existingRule: async () => null,
      sentWith: () => null,
      handle: async (r: { serviceUrl: string; reusableOnly?: boolean }) => {
        handled.push(r);
        return {
          authorization: 'L402 a:00',
          origin: 'https://api.example',
          pathPrefix: '/',
          paymentHash: 'h',
          validUntil: null,
        };
      },
      addRule: async (r: { resourceTypes: string[]; initiator: string | null }) => void rules.push(r),
      report: (e: unknown) => {
        throw e;
      },
    } as unknown as Parameters<typeof on402>[0];
    const handled: { serviceUrl: string; reusableOnly?: boolean }[] = [];
    const rules: { resourceTypes: string[]; initiator: string | null }[] = [];
    const base = {
      tabId: 1,
      url: 'https://api.example/v1/x',
      type: 'xmlhttprequest',
      statusCode: 402,
      initiator: 'https://api.example',
      frameId: 0,
    };
    await on402(deps, {
      ...base,
      responseHeaders: [
        { name: 'WWW-Authenticate', value: 'LSAT macaroon="a", invoice="b"\nL402 macaroon="a", invoice="b"' },
      ],
    } as chrome.webRequest.OnHeadersReceivedDetails);
    await on402(deps, {
      ...base,
      responseHeaders: [
        { name: 'WWW-Authenticate', value: 'LSAT macaroon="a", invoice="b"' },
        { name: 'www-authenticate', value: 'L402 macaroon="a", invoice="b"' },
      ],
    } as chrome.webRequest.OnHeadersReceivedDetails);
    expect(remembered[0]).toEqual(['LSAT macaroon="a", invoice="b"', 'L402 macaroon="a", invoice="b"']);
    expect(remembered[1]).toEqual(remembered[0]);
    // Page scripts get no header Firefox joined with a newline: that 402 (even same-origin) is the background's to
    // pay, with a rule for the page's retry; Chrome's separate entries are the page's own to read.
    expect(handled).toEqual([expect.objectContaining({ serviceUrl: base.url, reusableOnly: true })]);
    expect(rules).toEqual([
      expect.objectContaining({ resourceTypes: ['xmlhttprequest'], initiator: 'https://api.example' }),
    ]);
  });
});
