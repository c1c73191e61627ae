import { describe, expect, it } from 'vitest';
import type { PromptRequest } from '../model/model.ts';
import { isPromptAnswer } from '../model/model.ts';
import { createPromptStore, promptVia } from './prompts.ts';
import { memoryStorage } from './storage.ts';
import { NOW } from '../../../test/support/background-fixtures.ts';

const request = (id: string, expiresAt = NOW + 60_000): PromptRequest => ({
  id,
  kind: 'l402',
  origin: 'https://api.example.com',
  initiator: 'https://app.example.org',
  url: 'https://api.example.com/x',
  amountMsat: 10_000,
  maxFeeMsat: 10_000,
  memo: 'm',
  reason: 'no rule for this site yet',
  siteRemainingMsat: null,
  dailyRemainingMsat: 1_000_000,
  expiresAt,
});

describe('prompts', () => {
  it('create → get → answer wakes the waiter; a second answer is refused', async () => {
    const store = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
    await store.create(request('a'));
    expect(await store.get('a')).toMatchObject({ id: 'a', amountMsat: 10_000 });
    const waiting = store.waitForAnswer('a', 10_000);
    expect(await store.answer('a', { choice: 'approve-once' })).toBe(true);
    expect(await waiting).toEqual({ choice: 'approve-once' });
    expect(await store.answer('a', { choice: 'deny' })).toBe(false);
    expect(await store.get('a')).toBeNull();
  });

  it('no answer in time = deny', async () => {
    const store = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
    await store.create(request('b'));
    expect(await store.waitForAnswer('b', 5)).toEqual({ choice: 'deny' });
    expect(await store.answer('b', { choice: 'approve-once' })).toBe(false);
  });

  it('expired prompts cannot be read or answered', async () => {
    const store = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
    await store.create(request('c', NOW - 1));
    expect(await store.get('c')).toBeNull();
    expect(await store.answer('c', { choice: 'approve-once' })).toBe(false);
    expect(await store.waitForAnswer('c', 10_000)).toEqual({ choice: 'deny' });
  });

  it('an answer written by another context (same storage) is picked up by polling', async () => {
    const storage = memoryStorage();
    const here = createPromptStore({ storage, clock: () => NOW, pollMs: 5 });
    const there = createPromptStore({ storage, clock: () => NOW });
    await here.create(request('d'));
    const waiting = here.waitForAnswer('d', 10_000);
    await there.answer('d', { choice: 'approve-and-budget', budgetMsat: 5_000, period: 'weekly' });
    expect(await waiting).toEqual({ choice: 'approve-and-budget', budgetMsat: 5_000, period: 'weekly' });
  });

  it('malformed answers are refused', async () => {
    expect(isPromptAnswer({ choice: 'approve-and-budget', budgetMsat: -1, period: 'daily' })).toBe(false);
    expect(isPromptAnswer({ choice: 'approve-and-budget', budgetMsat: 1, period: 'hourly' })).toBe(false);
    expect(isPromptAnswer({ choice: 'yes' })).toBe(false);
    expect(isPromptAnswer(null)).toBe(false);
    const store = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
    await store.create(request('e'));
    expect(await store.answer('e', { choice: 'maybe' } as unknown as { choice: 'deny' })).toBe(false);
  });

  it('promptVia opens the window and waits; a window that cannot open is a deny', async () => {
    const store = createPromptStore({ storage: memoryStorage(), clock: () => NOW });
    const opened: string[] = [];
    const ask = promptVia(
      store,
      async (id) => {
        opened.push(id);
        await store.answer(id, { choice: 'approve-once' });
      },
      10_000,
    );
    expect(await ask(request('f'))).toEqual({ choice: 'approve-once' });
    expect(opened).toEqual(['f']);
    const broken = promptVia(store, async () => Promise.reject(new Error('no window')), 10_000);
    expect(await broken(request('g'))).toEqual({ choice: 'deny' });
  });
});
