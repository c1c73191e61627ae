// Questions to the user (docs/design.md#decide: Approve once / Approve and set budget / Deny; closes on timeout =
// deny). A prompt lives in session storage so the prompt window can read it by id; the background waits for
// the answer in memory, with a storage poll as a fallback for an answer written by another context.
import { isPromptAnswer, type PromptAnswer, type PromptRequest } from '../model/model.ts';
import type { KeyValueStorage } from './storage.ts';

const PREFIX = 'prompt:';

interface StoredPrompt {
  request: PromptRequest;
  answer: PromptAnswer | null;
}

interface PromptStoreDeps {
  /** Session-like storage (`browser.storage.session`): prompts need not survive a browser restart. */
  storage: KeyValueStorage;
  clock: () => number;
  /** How often waitForAnswer re-reads storage, ms (default 500). */
  pollMs?: number;
}

export interface PromptStore {
  /** Stores a question; the caller then opens the prompt window for `request.id`. */
  create(request: PromptRequest): Promise<void>;
  /** The open question with this id; null once answered or expired. */
  get(id: string): Promise<PromptRequest | null>;
  /** Records the user's answer; false when the prompt is unknown, already answered, expired, or the answer is malformed. */
  answer(id: string, answer: PromptAnswer): Promise<boolean>;
  /** Resolves with the answer, or `deny` when none comes within `timeoutMs` (or by the prompt's expiresAt). */
  waitForAnswer(id: string, timeoutMs: number): Promise<PromptAnswer>;
}

/**
 * A prompt store over storage. Create ONE per background lifetime and share it between the autopilot and the UI
 * handlers, so an answer wakes the waiter at once.
 * @example const prompts = createPromptStore({ storage: browserStorage(browser.storage.session), clock: Date.now });
 */
export function createPromptStore(deps: PromptStoreDeps): PromptStore {
  const waiters = new Map<string, Set<(a: PromptAnswer) => void>>();
  const read = (id: string) => deps.storage.get<StoredPrompt>(PREFIX + id);

  const store: PromptStore = {
    async create(request) {
      await deps.storage.set(PREFIX + request.id, { request, answer: null } satisfies StoredPrompt);
    },
    async get(id) {
      const p = await read(id);
      if (!p || p.answer !== null || p.request.expiresAt <= deps.clock()) return null;
      return p.request;
    },
    async answer(id, answer) {
      if (!isPromptAnswer(answer)) return false;
      const p = await read(id);
      if (!p || p.answer !== null || p.request.expiresAt <= deps.clock()) return false;
      await deps.storage.set(PREFIX + id, { ...p, answer } satisfies StoredPrompt);
      for (const w of waiters.get(id) ?? []) w(answer);
      return true;
    },
    waitForAnswer(id, timeoutMs) {
      return new Promise<PromptAnswer>((resolve) => {
        let done = false;
        const set = waiters.get(id) ?? new Set();
        waiters.set(id, set);
        const finish = (a: PromptAnswer) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearInterval(poll);
          set.delete(finish);
          if (set.size === 0) waiters.delete(id);
          // Answered or timed out: remove it, so a late answer is refused and storage does not grow.
          void deps.storage.remove(PREFIX + id);
          resolve(a);
        };
        set.add(finish);
        const timer = setTimeout(() => finish({ choice: 'deny' }), Math.max(0, timeoutMs));
        const check = async () => {
          const p = await read(id);
          if (!p) finish({ choice: 'deny' });
          else if (p.answer !== null) finish(p.answer);
          else if (p.request.expiresAt <= deps.clock()) finish({ choice: 'deny' });
        };
        const poll = setInterval(() => void check(), deps.pollMs ?? 500);
        void check();
      });
    },
  };
  return store;
}

/**
 * The autopilot's `prompt` dependency built from a store and a window opener (the plumbing's prompt-window.ts):
 * store the question, open the window, wait; a window that cannot open counts as deny.
 * @example prompt: promptVia(prompts, (id) => openPromptWindow(id), 120_000)
 */
export function promptVia(
  store: PromptStore,
  open: (id: string) => Promise<void>,
  timeoutMs: number,
): (request: PromptRequest) => Promise<PromptAnswer> {
  return async (request) => {
    await store.create(request);
    const answer = store.waitForAnswer(request.id, timeoutMs);
    try {
      await open(request.id);
    } catch {
      await store.answer(request.id, { choice: 'deny' });
    }
    return answer;
  };
}
