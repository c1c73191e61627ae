import { describe, expect, it } from 'vitest';
import { browserStorage, chainLock, memoryStorage, type StorageAreaLike, withLock } from './storage.ts';

async function counterRace(lock: (name: string, fn: () => Promise<void>) => Promise<void>): Promise<number> {
  const s = memoryStorage();
  await s.set('n', 0);
  await Promise.all(
    Array.from({ length: 40 }, () =>
      lock('counter', async () => {
        const n = (await s.get<number>('n')) ?? 0;
        await new Promise((r) => setTimeout(r, 0));
        await s.set('n', n + 1);
      }),
    ),
  );
  return (await s.get<number>('n')) ?? -1;
}

describe('storage', () => {
  it('memory storage clones values in and out and lists by prefix', async () => {
    const s = memoryStorage();
    const v = { a: [1] };
    await s.set('x:1', v);
    v.a.push(2);
    const got = await s.get<{ a: number[] }>('x:1');
    expect(got).toEqual({ a: [1] });
    got?.a.push(3);
    expect(await s.get('x:1')).toEqual({ a: [1] });
    await s.set('y:1', 2);
    expect([...(await s.getAll('x:')).keys()]).toEqual(['x:1']);
    await s.remove('x:1');
    expect(await s.get('x:1')).toBeUndefined();
  });

  it('browser storage maps onto a storage area', async () => {
    const data: Record<string, unknown> = {};
    const area: StorageAreaLike = {
      get: async (keys) =>
        keys === null || keys === undefined ? { ...data } : typeof keys === 'string' ? { [keys]: data[keys] } : {},
      set: async (items) => void Object.assign(data, items),
      remove: async (k) => {
        for (const x of typeof k === 'string' ? [k] : k) delete data[x];
      },
    };
    const s = browserStorage(area);
    await s.set('token:1', { a: 1 });
    await s.set('other', 2);
    expect(await s.get('token:1')).toEqual({ a: 1 });
    expect([...(await s.getAll('token:')).keys()]).toEqual(['token:1']);
    await s.remove('token:1');
    expect(await s.get('token:1')).toBeUndefined();
  });

  it('withLock and the in-process chain make read-modify-write atomic', async () => {
    expect(await counterRace(withLock)).toBe(40);
    expect(await counterRace(chainLock)).toBe(40);
  });

  it('a failing critical section does not block the next one', async () => {
    await expect(chainLock('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await chainLock('x', async () => 7)).toBe(7);
  });
});
