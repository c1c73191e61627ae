// Child process for sqlite-storage.test.ts: races another copy of itself on one database.
// argv: <dir> <mode> <id> <startAt ms> where mode is `counter` (locked read-modify-write), `reserve` (the engine's tryReserve) or `hold`.
import { join } from 'node:path';
import { tryReserve } from '../../src/extension/background/reservations.ts';
import { withLock } from '../../src/extension/background/storage.ts';
import { DEFAULT_RULES } from '../../src/extension/model/model.ts';
import { installProcessLocks, processLocks, sqliteStorage } from '../../src/agent/sqlite-storage.ts';

const [dir = '', mode = '', id = '0', startAt = '0'] = process.argv.slice(2);
const storage = sqliteStorage(join(dir, 'state.sqlite'));
installProcessLocks(processLocks(join(dir, 'locks')));
const tick = () => new Promise((r) => setTimeout(r, 1));
// Both racers start at the same moment, whatever their start-up time.
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));

if (mode === 'counter') {
  await Promise.all(
    Array.from({ length: 25 }, () =>
      withLock('counter', async () => {
        const n = (await storage.get<number>('counter')) ?? 0;
        await tick(); // give the other process every chance to interleave
        await storage.set('counter', n + 1);
      }),
    ),
  );
} else if (mode === 'reserve') {
  const rules = {
    ...DEFAULT_RULES,
    sites: [{ pattern: 'https://api.example', budgetMsat: 5 * 11_000, period: 'daily' as const, autoPay: true }],
  };
  // Reads take a while, as under load: without a cross-process lock both processes read the same totals.
  const slow = {
    ...storage,
    getAll: async <T>(prefix: string) => {
      const r = await storage.getAll<T>(prefix);
      await tick();
      return r;
    },
  };
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      tryReserve(
        { storage: slow, clock: Date.now },
        {
          paymentHash: `${id}-${i}`.padEnd(64, '0'),
          serviceOrigin: 'https://api.example',
          initiator: 'https://api.example',
          amountMsat: 1_000,
          rules,
        },
      ),
    ),
  );
  process.stdout.write(`${results.filter((r) => r.reservation).length}\n`);
} else if (mode === 'hold') {
  await withLock('counter', async () => {
    process.stdout.write('holding\n');
    await new Promise(() => setInterval(() => undefined, 1000)); // until killed
  });
}
storage.close();
