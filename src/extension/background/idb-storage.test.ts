import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { idbStorage } from './idb-storage.ts';

let n = 0;
const fresh = () => `test-${n++}`;

/** A storage.local stand-in holding what an earlier version wrote. */
function oldArea(data: Record<string, unknown>) {
  return {
    data,
    async get() {
      return structuredClone(data);
    },
    async set(items: Record<string, unknown>) {
      Object.assign(data, items);
    },
    async remove(keys: string | string[]) {
      for (const k of [keys].flat()) delete data[k];
    },
    async clear() {
      for (const k of Object.keys(data)) delete data[k];
    },
  };
}

describe('idbStorage', () => {
  it('stores, reads, lists by prefix and removes', async () => {
    const s = idbStorage({ indexedDB, name: fresh() });
    expect(await s.get('a')).toBeUndefined();
    await s.set('pay:1', { amount: 1 });
    await s.set('pay:2', { amount: 2 });
    await s.set('payload', 'x');
    await s.set('tok:1', true);
    expect(await s.get('pay:1')).toEqual({ amount: 1 });
    expect([...(await s.getAll('pay:')).entries()]).toEqual([
      ['pay:1', { amount: 1 }],
      ['pay:2', { amount: 2 }],
    ]);
    await s.remove('pay:1');
    expect([...(await s.getAll('pay:')).keys()]).toEqual(['pay:2']);
  });

  it('moves what storage.local held once, keeps newer entries, and empties storage.local', async () => {
    const name = fresh();
    const first = idbStorage({ indexedDB, name });
    await first.set('settings', { v: 'new' });
    const area = oldArea({ settings: { v: 'old' }, 'pay:1': { amount: 1 } });
    const s = idbStorage({ indexedDB, name, migrateFrom: area });
    expect(await s.get('settings')).toEqual({ v: 'new' });
    expect(await s.get('pay:1')).toEqual({ amount: 1 });
    expect(area.data).toEqual({});
  });
});
