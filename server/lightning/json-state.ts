// A small JSON state file for the dev node and dev wallet: loaded once, saved atomically. Saves of
// busy state (a 402 per request) are coalesced so a burst of invoices costs one write, while money
// movements call `saveNow()` so a settled payment is on disk before the preimage is released.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../tokens/token-files.ts';

export interface JsonState<T> {
  readonly value: T;
  /** Saves soon (coalesced). */
  save(): void;
  /** Saves now, synchronously. */
  saveNow(): void;
}

/** Opens `path`, or starts from `initial()` when it does not exist. */
export function openJsonState<T>(
  path: string,
  initial: () => T,
  check: (v: unknown) => v is T,
  delayMs = 200,
): JsonState<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let value: T;
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (!check(parsed)) throw new Error(`${path} is not a valid state file; move it away to start afresh`);
    value = parsed;
  } else {
    value = initial();
  }
  let timer: ReturnType<typeof setTimeout> | null = null;
  const saveNow = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    writeFileAtomic(path, JSON.stringify(value));
  };
  return {
    value,
    save() {
      if (timer) return;
      timer = setTimeout(saveNow, delayMs);
      timer.unref?.();
    },
    saveNow,
  };
}
