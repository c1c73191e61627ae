import { describe, expect, it } from 'vitest';
import { addHeaderRule, type DnrApi, listHeaderRules, reconcileHeaderRules } from './header-rules.ts';
import { type KeyValueStorage, memoryStorage } from './storage.ts';

/** An in-memory DNR session-rule set, failing on demand. */
function fakeDnr(): DnrApi & { ids: Set<number>; fail: boolean } {
  const ids = new Set<number>();
  const dnr = {
    ids,
    fail: false,
    async updateSessionRules(o: { addRules?: { id: number }[]; removeRuleIds?: number[] }) {
      if (dnr.fail) throw new Error('DNR refused');
      for (const id of o.removeRuleIds ?? []) ids.delete(id);
      for (const r of o.addRules ?? []) ids.add(r.id);
    },
    async getSessionRules() {
      return [...ids].map((id) => ({ id }));
    },
  };
  return dnr;
}

const rule = { tabId: 1, origin: 'https://api.example', pathPrefix: '/', resourceTypes: ['main_frame' as const], initiator: null, authorization: 'L402 m:p', paymentHash: 'h', expiresAt: null };

describe('header rules are always recorded', () => {
  it('a rule whose record cannot be stored is never added to DNR', async () => {
    const dnr = fakeDnr();
    const full: KeyValueStorage = { ...memoryStorage(), set: async () => Promise.reject(new Error('QUOTA_BYTES quota exceeded')) };
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
