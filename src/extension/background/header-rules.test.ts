import { describe, expect, it } from 'vitest';
import { addHeaderRule, type DnrApi, listHeaderRules, noteFrameHost, reconcileHeaderRules } from './header-rules.ts';
import { type KeyValueStorage, memoryStorage } from './storage.ts';

/** An in-memory DNR session-rule set, failing on demand. */
function fakeDnr(): DnrApi & {
  ids: Set<number>;
  fail: boolean;
  rules: Map<number, chrome.declarativeNetRequest.Rule>;
} {
  const ids = new Set<number>();
  const rules = new Map<number, chrome.declarativeNetRequest.Rule>();
  const dnr = {
    ids,
    rules,
    fail: false,
    async updateSessionRules(o: { addRules?: chrome.declarativeNetRequest.Rule[]; removeRuleIds?: number[] }) {
      if (dnr.fail) throw new Error('DNR refused');
      for (const id of o.removeRuleIds ?? []) ids.delete(id);
      for (const r of o.addRules ?? []) {
        ids.add(r.id);
        rules.set(r.id, r);
      }
    },
    async getSessionRules() {
      return [...ids].map((id) => ({ id }));
    },
  };
  return dnr;
}

const rule = {
  tabId: 1,
  origin: 'https://api.example',
  pathPrefix: '/',
  resourceTypes: ['main_frame' as const],
  initiator: null,
  authorization: 'L402 m:p',
  paymentHash: 'h',
  expiresAt: null,
};

describe('header rules are always recorded', () => {
  it('a rule whose record cannot be stored is never added to DNR', async () => {
    const dnr = fakeDnr();
    const full: KeyValueStorage = {
      ...memoryStorage(),
      set: async () => Promise.reject(new Error('QUOTA_BYTES quota exceeded')),
    };
    await expect(addHeaderRule({ dnr, storage: full, clock: () => 0 }, rule)).rejects.toThrow(/quota/);
    expect(dnr.ids.size).toBe(0);
  });

  it('a rule DNR refuses leaves no record', async () => {
    const dnr = fakeDnr();
    const deps = { dnr, storage: memoryStorage(), clock: () => 0 };
    dnr.fail = true;
    await expect(addHeaderRule(deps, rule)).rejects.toThrow(/refused/);
    expect(await listHeaderRules(deps)).toEqual([]);
  });

  it('on start, DNR rules without a record are removed, and records without a rule forgotten', async () => {
    const dnr = fakeDnr();
    const deps = { dnr, storage: memoryStorage(), clock: () => 0 };
    const kept = await addHeaderRule(deps, rule);
    const lost = await addHeaderRule(deps, { ...rule, tabId: 2 });
    dnr.ids.add(99); // left by a worker that stopped between the writes
    dnr.ids.delete(lost.id);
    expect(await reconcileHeaderRules(deps)).toBe(1);
    expect([...dnr.ids]).toEqual([kept.id]);
    expect((await listHeaderRules(deps)).map((r) => r.id)).toEqual([kept.id]);
  });
});

describe('header rules and frames from subdomains', () => {
  const page = { ...rule, resourceTypes: ['xmlhttprequest' as const], initiator: 'https://example.com' };
  it('a subdomain framed before the rule is excluded from it; the page host itself and other sites are not', async () => {
    const dnr = fakeDnr();
    const deps = { dnr, storage: memoryStorage(), clock: () => 0 };
    await noteFrameHost(deps, 1, 'uploads.example.com');
    await noteFrameHost(deps, 1, 'example.com');
    await noteFrameHost(deps, 1, 'notexample.com');
    await noteFrameHost(deps, 2, 'cdn.example.com'); // another tab
    const r = await addHeaderRule(deps, page);
    expect(dnr.rules.get(r.id)?.condition).toMatchObject({
      initiatorDomains: ['example.com'],
      excludedInitiatorDomains: ['uploads.example.com'],
    });
  });

  it('a subdomain framed after the rule is added to its exclusions', async () => {
    const dnr = fakeDnr();
    const deps = { dnr, storage: memoryStorage(), clock: () => 0 };
    const r = await addHeaderRule(deps, page);
    expect(dnr.rules.get(r.id)?.condition.excludedInitiatorDomains).toBeUndefined();
    await noteFrameHost(deps, 1, 'a.b.example.com');
    await noteFrameHost(deps, 1, 'a.b.example.com');
    expect(dnr.rules.get(r.id)?.condition.excludedInitiatorDomains).toEqual(['a.b.example.com']);
    expect((await listHeaderRules(deps))[0]?.excludedHosts).toEqual(['a.b.example.com']);
  });
});
