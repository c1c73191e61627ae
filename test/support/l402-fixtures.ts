// Shared by the src/l402 unit tests only (kept out of the toolkit build by tsconfig.toolkit.json).
import { isL402Error, type L402ErrorCode } from '../../src/l402/errors.ts';

/** Runs `fn` and names how it ended: its L402Error code, 'no error', or 'foreign error' for any other throw. */
export function codeOf(fn: () => unknown): L402ErrorCode | 'no error' | 'foreign error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return isL402Error(e) ? e.code : 'foreign error';
  }
}
