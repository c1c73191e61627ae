// One engine, one rule (docs/security.md): before any new invoice for a page + service scope, an open
// (pending/unknown) L402 payment of that page to that service whose scope covers the URL is resolved first. Used by
// the extension's autopilot and by the agent CLI.
import { decodeMacaroon, pathInScope, pathScope } from '../../l402/index.ts';
import type { Wallet } from '../../wallet/wallet.ts';
import type { PaymentRecord, StoredToken } from '../model/model.ts';
import { AutopilotError } from './errors.ts';
import { listPayments } from './ledger.ts';
import { resolvePayment } from './payer.ts';
import { findToken, type TokenDeps } from './tokens.ts';

/** Pending/unknown L402 payments of `initiator`'s page to `origin` whose token would cover `url`. */
async function openPaymentsFor(
  deps: TokenDeps,
  url: string,
  origin: string,
  initiator: string,
): Promise<PaymentRecord[]> {
  const path = new URL(url).pathname;
  return (await listPayments(deps.storage, { origin, status: ['pending', 'unknown'] })).filter((r) => {
    if (r.kind !== 'l402' || r.initiator !== initiator) return false;
    try {
      return r.macaroon === null || pathInScope(path, pathScope(decodeMacaroon(r.macaroon).caveats) ?? '/');
    } catch {
      return true; // cannot tell its scope: treat it as covering (never risk a second payment)
    }
  });
}

interface ResolveOpenOptions {
  /** The wallet to look payments up with; null: none now (what is open stays open). */
  wallet: () => Promise<Wallet | null>;
  /** A resume pass in progress: waited for before looking up ourselves. */
  resuming?: Promise<unknown> | null;
}

/**
 * Succeeded (now or meanwhile) → the token that serves `url` for this page; still open → throws `payment_unknown`,
 * nothing more is paid; nothing open, or it failed → null (go on and pay).
 */
export async function resolveOpenFirst(
  deps: TokenDeps,
  req: { serviceUrl: string; origin: string; initiator: string },
  o: ResolveOpenOptions,
): Promise<StoredToken | null> {
  const open = () => openPaymentsFor(deps, req.serviceUrl, req.origin, req.initiator);
  const served = () => findToken(deps, req.serviceUrl, req.initiator);
  // Settled meanwhile (the resume pass, say)? Its token was stored before its record said so (payer.ts settle).
  if ((await open()).length === 0) return served();
  await o.resuming?.catch(() => undefined);
  const still = await open();
  const wallet = still.length > 0 ? await o.wallet() : null;
  if (wallet) for (const r of still) await resolvePayment({ storage: deps.storage, clock: deps.clock, wallet }, r);
  const t = await served();
  if (t) return t;
  if ((await open()).length > 0) {
    throw new AutopilotError(
      'payment_unknown',
      `a payment to ${req.origin} for this is still being checked with your wallet; nothing more is paid for it until its outcome is known`,
    );
  }
  return null;
}
