// Shared by the src/wallet unit tests only.
import { WalletError } from '../../src/wallet/wallet.ts';

/** Awaits `p` and names how it ended: its WalletError code, or 'resolved'; any other rejection is rethrown. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WalletError) return e.code;
    throw e;
  }
  return 'resolved';
}
