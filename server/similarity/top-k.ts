// Top-k selection without sorting every score: a k-sized heap of the best rows so far, O(n log k). Same order as
// topK in cosine.ts (best first, ties: lower index first), which the tests use as the reference.
import type { Ranked } from './cosine.ts';

/** `a` ranks below `b`: lower score, or the same score and a higher index. */
const worse = (s: ArrayLike<number>, a: number, b: number): boolean => s[a]! < s[b]! || (s[a] === s[b] && a > b);

/**
 * The `k` best of `scores` (no NaN), best first.
 * @example selectTopK(scores, 10)
 */
export function selectTopK(scores: ArrayLike<number>, k: number): Ranked[] {
  const n = scores.length;
  const size = Math.max(0, Math.min(k, n));
  // Min-heap by rank: the root is the worst row kept so far.
  const heap = new Uint32Array(size);
  const down = (from: number): void => {
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const c = l + 1 < size && worse(scores, heap[l + 1]!, heap[l]!) ? l + 1 : l;
      if (!worse(scores, heap[c]!, heap[i]!)) return;
      const t = heap[i]!;
      heap[i] = heap[c]!;
      heap[c] = t;
      i = c;
    }
  };
  for (let i = 0; i < size; i++) heap[i] = i;
  for (let i = (size >> 1) - 1; i >= 0; i--) down(i);
  for (let i = size; i < n; i++) {
    if (worse(scores, heap[0]!, i)) {
      heap[0] = i;
      down(0);
    }
  }
  const picked = Array.from(heap).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return picked.map((index) => ({ index, similarity: scores[index]! }));
}
