import { describe, expect, it } from 'vitest';
import { MAX_HEADER_LENGTH } from '../../l402/challenge.ts';
import { MAX_PER_URL, MAX_URLS, rememberChallenge, wasSeen } from './seen-challenges.ts';
import { memoryStorage } from './storage.ts';

const line = (i: number) => `L402 macaroon="m${i}", invoice="i"`;

describe('seen challenges are bounded whatever the server sends', () => {
  it('stores a fixed-size digest, not the header', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => 1000, sleep: async () => {} };
    const big = `L402 macaroon="${'A'.repeat(50_000)}", invoice="i"`;
    await rememberChallenge(deps, 1, 'https://api.example/x', [big]);
    const stored = JSON.stringify([...(await storage.getAll('seen402:')).values()]);
    expect(stored.length).toBeLessThan(200);
    expect(await wasSeen(deps, 1, 'https://api.example/x', [big])).toBe(true);
  });

  it('does not record a header longer than the parser accepts', async () => {
    const storage = memoryStorage();
    const deps = { storage, clock: () => 1000, sleep: async () => {} };
    const huge = `L402 macaroon="${'A'.repeat(MAX_HEADER_LENGTH)}", invoice="i"`;
    await rememberChallenge(deps, 1, 'https://api.example/x', [huge]);
    expect((await storage.getAll('seen402:')).size).toBe(0);
    expect(await wasSeen(deps, 1, 'https://api.example/x', [huge])).toBe(false);
  });

  it('keeps the latest few per URL, a bounded number of URLs, and prunes expired ones', async () => {
    const storage = memoryStorage();
    let now = 1000;
    const deps = { storage, clock: () => now, sleep: async () => {} };
    for (let i = 0; i < MAX_PER_URL + 5; i++) await rememberChallenge(deps, 1, 'https://api.example/x', [line(i)]);
    expect(await storage.get<unknown[]>('seen402:1:https://api.example/x')).toHaveLength(MAX_PER_URL);
    expect(await wasSeen(deps, 1, 'https://api.example/x', [line(MAX_PER_URL + 4)])).toBe(true);
    expect(await wasSeen(deps, 1, 'https://api.example/x', [line(0)])).toBe(false);

    for (let i = 0; i < MAX_URLS + 10; i++) {
      now += 1;
      await rememberChallenge(deps, 2, `https://api.example/u${i}`, [line(i)]);
    }
    expect((await storage.getAll('seen402:')).size).toBe(MAX_URLS);
    expect(await wasSeen(deps, 2, `https://api.example/u${MAX_URLS + 9}`, [line(MAX_URLS + 9)])).toBe(true);

    now += 200_000; // everything so far has expired
    await rememberChallenge(deps, 3, 'https://api.example/new', [line(1)]);
    expect([...(await storage.getAll('seen402:')).keys()]).toEqual(['seen402:3:https://api.example/new']);
  });
});
