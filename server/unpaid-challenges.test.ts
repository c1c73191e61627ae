// Unpaid 402s under load: they cost no storage in the dev backend, and each client's challenge minting is
// rate limited (429 + Retry-After, JSON error) for every backend, recovering as its bucket refills.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTokenBucket } from './gate/rate-limit.ts';
import type { LightningBackend } from './lightning/backend.ts';
import { buyToken, fixture, PAIR, post } from '../test/support/server-fixtures.ts';

describe('unpaid challenges cost no storage (dev backend)', () => {
  it('many unpaid 402s leave dev-node-invoices.json unchanged in size; paying one still works', async () => {
    const f = fixture({ config: { challengeBurst: 0 } });
    const file = join(f.dataDir, 'dev-node-invoices.json');
    await buyToken(f); // one paid invoice, so the file exists
    const size = statSync(file).size;
    for (let i = 0; i < 200; i++) expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402);
    f.dev.flush();
    expect(statSync(file).size).toBe(size);
    const { authorization } = await buyToken(f);
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
    expect(statSync(file).size).toBeGreaterThan(size);
  }, 60_000);
});

describe('challenge rate limit', () => {
  it('answers 429 + Retry-After with a JSON error past the burst, and recovers as the bucket refills', async () => {
    const f = fixture({ config: { challengeBurst: 3, challengeRatePerSecond: 1 } });
    for (let i = 0; i < 3; i++) expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402);
    const limited = await post(f.app, '/v1/similarity', PAIR);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('www-authenticate')).toBeNull();
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await limited.json()).error).toMatchObject({ code: 'rate_limited' });
    f.clock.now += 1000;
    expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402);
    expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(429);
    f.clock.now += 10_000; // refills to the burst, not beyond
    for (let i = 0; i < 3; i++) expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402);
    expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(429);
  });

  it('limits before the backend is asked (any backend), and never limits a paid request', async () => {
    const base = fixture();
    let created = 0;
    const counting: LightningBackend = {
      createInvoice: (...a) => {
        created++;
        return base.dev.createInvoice(...a);
      },
      lookupInvoice: (h) => base.dev.lookupInvoice(h),
      getInfo: () => base.dev.getInfo(),
    };
    const f = fixture({
      dataDir: base.dataDir,
      backend: counting,
      config: { challengeBurst: 2, challengeRatePerSecond: 1 },
    });
    const { authorization } = await buyToken(f);
    expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(402);
    for (let i = 0; i < 5; i++) expect((await post(f.app, '/v1/similarity', PAIR)).status).toBe(429);
    expect(created).toBe(2);
    expect((await post(f.app, '/v1/similarity', PAIR, { authorization })).status).toBe(200);
  });

  it('keeps one bucket per client, and 0 turns the limit off', () => {
    let now = 0;
    const limit = createTokenBucket({ burst: 2, perSecond: 0.5, now: () => now });
    expect([limit.take('a'), limit.take('a'), limit.take('a')]).toEqual([0, 0, 2]);
    expect(limit.take('b')).toBe(0);
    now += 2000;
    expect(limit.take('a')).toBe(0);
    const off = createTokenBucket({ burst: 0, perSecond: 0, now: () => now });
    for (let i = 0; i < 1000; i++) expect(off.take('a')).toBe(0);
  });

  it('forgets the least recently seen clients beyond maxClients (they start full again)', () => {
    const limit = createTokenBucket({ burst: 1, perSecond: 1, now: () => 0, maxClients: 2 });
    expect(limit.take('a')).toBe(0);
    expect(limit.take('a')).toBe(1);
    limit.take('b');
    limit.take('c'); // evicts a
    expect(limit.take('a')).toBe(0);
  });
});
