// window.webln provided by the extension (SPEC §2 "Provide WebLN"): `enable()` asks per-site permission,
// `sendPayment` goes through the same rules, prompts, reservation and preimage check as L402 payments.
// The origin is the page's, from the browser (`sender.origin`), never from the message.
import { assertPayable, decodeInvoice, isL402Error } from '../../l402/index.ts';
import { AutopilotError } from './errors.ts';
import type { PaymentFlow } from './payment-flow.ts';
import type { KeyValueStorage } from './storage.ts';

const PREFIX = 'webln-permission:';

/** A site the user allowed to use window.webln. */
export interface WeblnPermission {
  origin: string;
  enabledAt: number;
}

/** Per-site WebLN permission store. */
export const weblnPermission = {
  async get(storage: KeyValueStorage, origin: string): Promise<WeblnPermission | null> {
    return (await storage.get<WeblnPermission>(PREFIX + origin)) ?? null;
  },
  async isEnabled(storage: KeyValueStorage, origin: string): Promise<boolean> {
    return (await storage.get<WeblnPermission>(PREFIX + origin)) !== undefined;
  },
  async enable(storage: KeyValueStorage, origin: string, now: number): Promise<WeblnPermission> {
    const p: WeblnPermission = { origin, enabledAt: now };
    await storage.set(PREFIX + origin, p);
    return p;
  },
  async revoke(storage: KeyValueStorage, origin: string): Promise<boolean> {
    if ((await storage.get<WeblnPermission>(PREFIX + origin)) === undefined) return false;
    await storage.remove(PREFIX + origin);
    return true;
  },
  async list(storage: KeyValueStorage): Promise<WeblnPermission[]> {
    return [...(await storage.getAll<WeblnPermission>(PREFIX)).values()];
  },
};

/**
 * `webln.enable()` from a page: already allowed → ok; otherwise ask the user (prompt kind `webln-enable`).
 * Throws AutopilotError `rejected_by_user`.
 */
export async function handleWeblnEnable(flow: PaymentFlow, args: { origin: string }): Promise<{ enabled: true }> {
  const { storage, clock } = flow.deps;
  if (await weblnPermission.isEnabled(storage, args.origin)) return { enabled: true };
  const answer = await flow.ask(args.origin, () => ({
    id: (flow.deps.newId ?? (() => crypto.randomUUID()))(),
    kind: 'webln-enable',
    origin: args.origin,
    initiator: args.origin,
    url: args.origin,
    amountMsat: 0,
    maxFeeMsat: 0,
    memo: null,
    reason: 'this site asks to use your wallet through WebLN',
    siteRemainingMsat: null,
    dailyRemainingMsat: null,
    expiresAt: clock() + (flow.deps.promptTimeoutMs ?? 120_000),
  }));
  if (answer.choice === 'deny') throw new AutopilotError('rejected_by_user', `you did not allow ${args.origin} to use WebLN`);
  await weblnPermission.enable(storage, args.origin, clock());
  return { enabled: true };
}

/**
 * `webln.sendPayment(bolt11)` from an enabled page: decode, sanity (amount, expiry, network), rules → prompt →
 * reserve → pay → verify preimage → commit; recorded as a `webln` payment of the page origin.
 * Throws AutopilotError (`not_enabled`, `invalid_challenge`, `denied`, `rejected_by_user`, payment errors).
 * @example await handleWeblnSendPayment(flow, { origin: sender.origin, paymentRequest })
 */
export async function handleWeblnSendPayment(
  flow: PaymentFlow,
  args: { origin: string; paymentRequest: string },
): Promise<{ preimage: string }> {
  const { storage, clock } = flow.deps;
  if (!(await weblnPermission.isEnabled(storage, args.origin))) {
    throw new AutopilotError('not_enabled', 'call webln.enable() first: this site is not allowed to use WebLN');
  }
  const settings = await flow.settings();
  if (!settings.rules.enabled) throw new AutopilotError('denied', 'not paid: L402 Autopilot is switched off');
  const wallet = await flow.wallet(settings);
  let invoice: ReturnType<typeof assertPayable>;
  try {
    invoice = assertPayable(decodeInvoice(args.paymentRequest), {
      now: clock() / 1000,
      networks: await flow.networks(wallet),
      expiryMarginSeconds: 5,
    });
  } catch (e) {
    throw new AutopilotError('invalid_challenge', `the invoice cannot be paid: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
      coreCode: isL402Error(e) ? e.code : undefined,
    });
  }
  const { record } = await flow.pay(
    {
      intent: { invoice, origin: args.origin, initiator: args.origin, url: args.origin, kind: 'webln', macaroon: null },
      promptKind: 'webln-payment',
    },
    wallet,
    settings,
  );
  if (!record.preimage) throw new AutopilotError('payment_failed', 'paid, but the wallet gave no preimage');
  return { preimage: record.preimage };
}
