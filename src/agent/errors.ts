// The agent's outcomes as process exit codes (documented in README "For agents"), and its one error type.
import type { AutopilotErrorCode } from '../extension/background/errors.ts';

/** Exit codes of `l402-autopilot`. */
export const EXIT = {
  /** Done: the response came back (paid or not). */
  ok: 0,
  /** Something else went wrong (network error reaching the URL, unreadable state). */
  error: 1,
  /** Bad command-line arguments. */
  usage: 2,
  /** The rules refused the payment (cap, budget, deny list, --max-sats, run budget, or they would ask). */
  refused: 3,
  /** No wallet, or the wallet cannot be reached; nothing was paid. */
  walletUnreachable: 4,
  /** The payment's outcome is not known yet: its amount stays reserved and it is looked up on the next start. */
  paymentUnknown: 5,
  /** The 402's challenge is malformed, unpayable (expired, wrong network) or of a scheme we do not pay. */
  badChallenge: 6,
  /** The wallet says the payment failed (e.g. no route, not enough balance); nothing was spent. */
  paymentFailed: 7,
} as const;

type AgentErrorCode =
  | 'refused'
  | 'wallet_unreachable'
  | 'payment_unknown'
  | 'bad_challenge'
  | 'payment_failed'
  | 'usage'
  | 'error';

const EXIT_OF: Record<AgentErrorCode, number> = {
  refused: EXIT.refused,
  wallet_unreachable: EXIT.walletUnreachable,
  payment_unknown: EXIT.paymentUnknown,
  bad_challenge: EXIT.badChallenge,
  payment_failed: EXIT.paymentFailed,
  usage: EXIT.usage,
  error: EXIT.error,
};

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
  get exitCode(): number {
    return EXIT_OF[this.code];
  }
}

/** The engine's error codes in the agent's terms. */
export function fromAutopilotCode(code: AutopilotErrorCode): AgentErrorCode {
  switch (code) {
    case 'denied':
    case 'rejected_by_user':
    case 'over_budget':
      return 'refused';
    case 'no_wallet':
    case 'wallet_unavailable':
      return 'wallet_unreachable';
    case 'payment_unknown':
    case 'bad_preimage':
      return 'payment_unknown';
    case 'insufficient_balance':
    case 'payment_failed':
      return 'payment_failed';
    case 'invalid_challenge':
    case 'unsupported_challenge':
    case 'loop_guard':
      return 'bad_challenge';
    default:
      return 'error';
  }
}
