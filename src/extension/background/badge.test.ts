import { describe, expect, it } from 'vitest';
import { badgeTitle, challengesSeen, countChallenge, resetBadge } from './badge.ts';
import { memoryStorage } from './storage.ts';

const fakeBadge = () => {
  const texts = new Map<number, string>();
  const titles = new Map<number, string>();
  const deps = {
    storage: memoryStorage(),
    setText: async (tabId: number, text: string) => void texts.set(tabId, text),
    setTitle: async (tabId: number, title: string) => void titles.set(tabId, title),
  };
  return { deps, texts, titles };
};

describe('badge', () => {
  it('counts 402s per tab without losing concurrent ones, and resets', async () => {
    const { deps, texts } = fakeBadge();
    await Promise.all(Array.from({ length: 20 }, () => countChallenge(deps, 7, ['l402'])));
    await countChallenge(deps, 8, ['l402']);
    expect(await challengesSeen(deps, 7)).toBe(20);
    expect(texts.get(7)).toBe('20');
    expect(texts.get(8)).toBe('1');
    await resetBadge(deps, 7);
    expect(await challengesSeen(deps, 7)).toBe(0);
    expect(texts.get(7)).toBe('');
    expect(await challengesSeen(deps, 8)).toBe(1);
  });

  it('names the schemes in the tooltip: a 402 offering two counts once in all and once for each', async () => {
    const { deps, titles } = fakeBadge();
    await countChallenge(deps, 3, ['l402', 'payment']);
    await countChallenge(deps, 3, ['x402']);
    await countChallenge(deps, 3, []);
    expect(await challengesSeen(deps, 3)).toBe(3);
    expect(titles.get(3)).toBe(
      'L402 Autopilot — 3 payment requests on this page: 1 × L402 (token), 1 × Payment (one-time charge), ' +
        '1 × x402 (one-time charge), 1 × other 402',
    );
    await resetBadge(deps, 3);
    expect(titles.get(3)).toBe('L402 Autopilot');
  });

  it('reads a count stored before schemes were kept', async () => {
    const { deps, titles } = fakeBadge();
    await deps.storage.set('badge:5', 2);
    await countChallenge(deps, 5, ['payment']);
    expect(await challengesSeen(deps, 5)).toBe(3);
    expect(titles.get(5)).toBe('L402 Autopilot — 3 payment requests on this page: 1 × Payment (one-time charge)');
    expect(badgeTitle({ total: 1, bySchemes: { l402: 1 } })).toBe(
      'L402 Autopilot — 1 payment request on this page: 1 × L402 (token)',
    );
  });
});
