import { describe, expect, it } from 'vitest';
import { challengesSeen, countChallenge, resetBadge } from './badge.ts';
import { memoryStorage } from './storage.ts';

describe('badge', () => {
  it('counts 402s per tab without losing concurrent ones, and resets', async () => {
    const texts = new Map<number, string>();
    const deps = {
      storage: memoryStorage(),
      setText: async (tabId: number, text: string) => void texts.set(tabId, text),
    };
    await Promise.all(Array.from({ length: 20 }, () => countChallenge(deps, 7)));
    await countChallenge(deps, 8);
    expect(await challengesSeen(deps, 7)).toBe(20);
    expect(texts.get(7)).toBe('20');
    expect(texts.get(8)).toBe('1');
    await resetBadge(deps, 7);
    expect(await challengesSeen(deps, 7)).toBe(0);
    expect(texts.get(7)).toBe('');
    expect(await challengesSeen(deps, 8)).toBe(1);
  });
});
