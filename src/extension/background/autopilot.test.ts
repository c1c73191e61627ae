import { describe, expect, it } from 'vitest';
import { caveat, formatL402Challenge, hexToBytes, mintMacaroon, parseAuthorization } from '../../l402/index.ts';
import type { PromptAnswer, PromptRequest, Settings } from '../model/model.ts';
import { type AutopilotDeps, type ChallengeRequest, createAutopilot, STILL_UNKNOWN } from './autopilot.ts';
import { WalletError } from '../../wallet/wallet.ts';
import { AutopilotError } from './errors.ts';
import { getPayment, listPayments } from './ledger.ts';
import { budgetTotals, getReservation, listReservations } from './reservations.ts';
import { loadSettings, saveSettings } from './settings.ts';
import { type KeyValueStorage, memoryStorage } from './storage.ts';
import {
  type Challenge,
  FakeWallet,
  makeChallenge,
  makeInvoice,
  NOW,
  settingsWith,
} from '../../../test/support/background-fixtures.ts';
import { listTokens } from './tokens.ts';

const SERVICE = 'https://api.example.com';
const PAGE = 'https://app.example.org';
// Budgets belong to the page the user is on (the initiator), not to the service it calls (docs/design.md#rules-semantics).
const AUTO = [{ pattern: PAGE, budgetMsat: 100_000, period: 'daily' as const, autoPay: true }];

interface World {
  storage: KeyValueStorage;
  wallet: FakeWallet;
  prompts: PromptRequest[];
  answer: (r: PromptRequest) => PromptAnswer | Promise<PromptAnswer>;
  now: number;
  deps: AutopilotDeps;
}

async function world(settings: Settings = settingsWith({ sites: AUTO }), storage = memoryStorage()): Promise<World> {
  await saveSettings(storage, settings);
  const w: World = {
    storage,
    wallet: new FakeWallet(),
    prompts: [],
    answer: () => ({ choice: 'deny' }),
    now: NOW,
    deps: undefined as unknown as AutopilotDeps, // set just below (needs `w` for the closures)
  };
  let id = 0;
  w.deps = {
    storage,
    clock: () => w.now,
    wallet: async () => w.wallet,
    prompt: async (r) => {
      w.prompts.push(r);
      return w.answer(r);
    },
    newId: () => `p${++id}`,
  };
  return w;
}

const req = (c: Challenge, o: Partial<ChallengeRequest> = {}): ChallengeRequest => ({
  serviceUrl: `${SERVICE}/v1/similarity`,
  initiator: PAGE,
  wwwAuthenticate: c.header,
  source: 'fetch',
  confirmedByBrowser: true,
  ...o,
});

function hexBytes(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  if (!b) throw new Error(`not hex: ${hex}`);
  return b;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (e instanceof AutopilotError) return e.coreCode ? `${e.code}/${e.coreCode}` : e.code;
    throw e;
  }
}

describe('handleChallenge: paying', () => {
  it('pays inside an auto-pay budget, verifies, commits amount + actual fee, stores a token', async () => {
    const w = await world();
    const c = w.wallet.know(makeChallenge({ sats: 10 }));
    const r = await createAutopilot(w.deps).handleChallenge(req(c, { wwwAuthenticate: ['LSAT junk', c.header] }));
    expect(r.paid).toBe(true);
    expect(parseAuthorization(r.authorization)).toMatchObject({ macaroons: [c.macaroon], preimage: c.preimage });
    expect(r.token).toMatchObject({ origin: SERVICE, pathPrefix: '/', grantedTo: [PAGE] });
    expect(w.prompts).toHaveLength(0);
    expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({
      status: 'succeeded',
      preimage: c.preimage,
      feeMsat: 1000,
      macaroon: c.macaroon,
      origin: SERVICE,
      initiator: PAGE,
    });
    expect(await getReservation(w.storage, c.paymentHash)).toMatchObject({ state: 'committed', spentMsat: 11_000 });
  });

  it('a still-valid token is reused without paying; the same invoice is never paid twice', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const c = w.wallet.know(makeChallenge());
    await ap.handleChallenge(req(c));
    const again = await ap.handleChallenge(req(w.wallet.know(makeChallenge())));
    expect(again.paid).toBe(false);
    expect(again.token.paymentHash).toBe(c.paymentHash);
    expect(w.wallet.paid).toHaveLength(1);
  });

  it('wrong preimage: not committed, stays reserved, no token, clear error', async () => {
    const w = await world();
    w.wallet.behaviour = 'wrong_preimage';
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('bad_preimage');
    expect(await getReservation(w.storage, c.paymentHash)).toMatchObject({ state: 'reserved' });
    expect((await getPayment(w.storage, c.paymentHash))?.status).toBe('unknown');
    expect(await listTokens(w.deps)).toEqual([]);
  });

  it('insufficient balance: released, recorded failed with a clear error', async () => {
    const w = await world();
    w.wallet.behaviour = 'insufficient_balance';
    const c = w.wallet.know(makeChallenge());
    const err = await createAutopilot(w.deps)
      .handleChallenge(req(c))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AutopilotError);
    expect((err as AutopilotError).code).toBe('insufficient_balance');
    expect((err as AutopilotError).message).toContain('not enough balance');
    expect(await getReservation(w.storage, c.paymentHash)).toBeUndefined();
    expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({ status: 'failed' });
    // A definite failure may be tried again once the wallet has money.
    w.wallet.behaviour = 'ok';
    expect((await createAutopilot(w.deps).handleChallenge(req(c))).paid).toBe(true);
  });

  it('unreachable wallet → wallet_unavailable, released', async () => {
    const w = await world();
    w.wallet.behaviour = 'unreachable';
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('wallet_unavailable');
    expect(await listReservations(w.storage)).toEqual([]);
  });

  it('timeout → unknown and still reserved; after a restart resumePending recovers it without paying again', async () => {
    const w = await world();
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('payment_unknown');
    expect((await getPayment(w.storage, c.paymentHash))?.status).toBe('unknown');
    expect(await getReservation(w.storage, c.paymentHash)).toMatchObject({ state: 'reserved' });

    // Still unknown at the first restart: kept, not released.
    expect((await createAutopilot(w.deps).resumePending()).stillUnknown).toEqual([c.paymentHash]);
    // A challenge with the same invoice meanwhile is not paid again.
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('payment_unknown');

    // "Service worker restart": every in-memory object dropped, same storage, the wallet now knows.
    w.wallet.hideSettled = false;
    const fresh = createAutopilot({ ...w.deps });
    expect(await fresh.resumePending()).toEqual({ succeeded: [c.paymentHash], failed: [], stillUnknown: [] });
    expect(w.wallet.paid).toEqual([c.paymentHash]);
    expect(await getReservation(w.storage, c.paymentHash)).toMatchObject({ state: 'committed' });
    const r = await fresh.handleChallenge(req(c));
    expect(r).toMatchObject({ paid: false, token: { paymentHash: c.paymentHash, preimage: c.preimage } });
    expect(w.wallet.paid).toHaveLength(1);
  });

  it('worker stopped mid-payment: the pending record was written before paying; resume finds it paid', async () => {
    const w = await world();
    const c = w.wallet.know(makeChallenge());
    let reached!: () => void;
    const inWallet = new Promise<void>((r) => {
      reached = r;
    });
    w.wallet.gate = () => {
      reached();
      return new Promise(() => {}); // the worker dies here: payInvoice never returns
    };
    void createAutopilot(w.deps).handleChallenge(req(c));
    await inWallet;
    expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({ status: 'pending', macaroon: c.macaroon });
    w.wallet.settled.add(c.paymentHash); // the wallet did pay
    const restarted = createAutopilot({ ...w.deps });
    expect((await restarted.resumePending()).succeeded).toEqual([c.paymentHash]);
    expect(await restarted.authorizationFor(`${SERVICE}/v1/x`, PAGE)).toContain(c.preimage);
    expect(w.wallet.paid).toHaveLength(1);
  });

  it('resume: a payment the wallet reports failed is released', async () => {
    const w = await world();
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    const c = w.wallet.know(makeChallenge());
    await codeOf(createAutopilot(w.deps).handleChallenge(req(c)));
    w.wallet.settled.delete(c.paymentHash);
    w.wallet.lookupDefault = { state: 'failed', reason: 'no route' };
    expect((await createAutopilot(w.deps).resumePending()).failed).toEqual([c.paymentHash]);
    expect(await getReservation(w.storage, c.paymentHash)).toBeUndefined();
  });
});

describe('handleChallenge: concurrency', () => {
  it('50 simultaneous challenges on distinct invoices for one site with budget for 5 → at most 5 paid, ≤ budget, one prompt', async () => {
    const w = await world();
    // About the budget alone: the per-service circuit breaker is tested on its own below.
    w.deps.breaker = null;
    // Fees at the max: each payment counts amount 10 + fee 10 sats, so the 100-sat budget covers exactly 5.
    w.wallet.feeMsat = 10_000;
    const ap = createAutopilot(w.deps);
    // Distinct path scopes, so they cannot coalesce: each needs its own payment.
    const cs = Array.from({ length: 50 }, (_, i) =>
      w.wallet.know(makeChallenge({ sats: 10, caveats: [`path=/r${i}`] })),
    );
    const results = await Promise.allSettled(
      cs.map((c, i) => ap.handleChallenge(req(c, { serviceUrl: `${SERVICE}/r${i}` }))),
    );
    const paid = results.filter((r) => r.status === 'fulfilled');
    expect(w.wallet.paid.length).toBe(5);
    expect(paid).toHaveLength(w.wallet.paid.length);
    expect(
      budgetTotals(await listReservations(w.storage), (await loadSettings(w.storage)).rules, PAGE, NOW).siteSpentMsat,
    ).toBeLessThanOrEqual(100_000);
    // The rest were over budget → one prompt (denied), the others answered by that denial.
    expect(w.prompts).toHaveLength(1);
    expect(w.prompts[0]?.reason).toContain("over this site's daily budget");
    for (const r of results)
      if (r.status === 'rejected') expect((r.reason as AutopilotError).code).toBe('rejected_by_user');
  });

  it('concurrent challenges for the same scope coalesce into ONE payment', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const cs = Array.from({ length: 10 }, () => w.wallet.know(makeChallenge()));
    const results = await Promise.all(cs.map((c) => ap.handleChallenge(req(c))));
    expect(w.wallet.paid).toHaveLength(1);
    expect(new Set(results.map((r) => r.authorization)).size).toBe(1);
    expect(results.filter((r) => r.paid)).toHaveLength(1);
  });

  it('the same invoice seen twice at once (webRequest + page wrapper) is paid once', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const c = w.wallet.know(makeChallenge());
    await Promise.all([ap.handleChallenge(req(c, { source: 'navigation' })), ap.handleChallenge(req(c))]);
    expect(w.wallet.paid).toHaveLength(1);
  });
});

describe('handleChallenge: asking and refusing', () => {
  it('no rule → prompt with site, amount, memo, reason; approve once pays without adding a rule', async () => {
    const w = await world(settingsWith());
    w.answer = () => ({ choice: 'approve-once' });
    const c = w.wallet.know(makeChallenge({ sats: 21 }));
    expect((await createAutopilot(w.deps).handleChallenge(req(c))).paid).toBe(true);
    expect(w.prompts[0]).toMatchObject({
      kind: 'l402',
      origin: SERVICE,
      initiator: PAGE,
      amountMsat: 21_000,
      maxFeeMsat: 10_000,
      memo: 'priced call',
      reason: 'no rule for this site yet',
      siteRemainingMsat: null,
    });
    expect((await loadSettings(w.storage)).rules.sites).toEqual([]);
  });

  it("approve and set budget adds an auto-pay rule for the PAGE; its next challenge is paid silently, another page's is not", async () => {
    const w = await world(settingsWith());
    w.answer = () => ({ choice: 'approve-and-budget', budgetMsat: 500_000, period: 'weekly' });
    const ap = createAutopilot(w.deps);
    await ap.handleChallenge(req(w.wallet.know(makeChallenge({ caveats: ['path=/v1'] }))));
    expect((await loadSettings(w.storage)).rules.sites).toEqual([
      { pattern: PAGE, budgetMsat: 500_000, period: 'weekly', autoPay: true },
    ]);
    await ap.handleChallenge(
      req(w.wallet.know(makeChallenge({ caveats: ['path=/other'] })), { serviceUrl: `${SERVICE}/other` }),
    );
    expect(w.prompts).toHaveLength(1);
    expect(w.wallet.paid).toHaveLength(2);
    // The same service called from another page: that page has no budget, so it asks (denied: nothing paid).
    w.answer = () => ({ choice: 'deny' });
    const evil = w.wallet.know(makeChallenge({ caveats: ['path=/v1'] }));
    expect(await codeOf(ap.handleChallenge(req(evil, { initiator: 'https://evil.example' })))).toBe('rejected_by_user');
    expect(w.prompts).toHaveLength(2);
    expect(w.prompts[1]).toMatchObject({ origin: SERVICE, initiator: 'https://evil.example', siteRemainingMsat: null });
    expect(w.wallet.paid).toHaveLength(2);
    expect(await getReservation(w.storage, evil.paymentHash)).toBeUndefined();
  });

  it('deny → rejected_by_user, nothing paid or reserved', async () => {
    const w = await world(settingsWith());
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('rejected_by_user');
    expect(w.wallet.paid).toEqual([]);
    expect(await listReservations(w.storage)).toEqual([]);
  });

  it('over the per-payment cap → prompt, not paid when denied', async () => {
    const w = await world(settingsWith({ sites: AUTO, perPaymentCapMsat: 15_000 }));
    const c = w.wallet.know(makeChallenge({ sats: 10 }));
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c)))).toBe('rejected_by_user');
    expect(w.prompts[0]?.reason).toBe('over your per-payment cap: 20 of 15 sats (with max fee)');
    expect(w.wallet.paid).toEqual([]);
  });

  it.each<[string, Settings, string]>([
    ['switched off', settingsWith({ enabled: false, sites: AUTO }), 'denied'],
    ['deny list (service)', settingsWith({ sites: AUTO, deny: ['*.example.com'] }), 'denied'],
    ['deny list (page)', settingsWith({ sites: AUTO, deny: [PAGE] }), 'denied'],
    ['no wallet', { ...settingsWith({ sites: AUTO }), wallet: { kind: 'none' } }, 'no_wallet'],
  ])('%s → %s without prompting or paying', async (_n, settings, code) => {
    const w = await world(settings);
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(w.wallet.know(makeChallenge()))))).toBe(code);
    expect(w.prompts).toEqual([]);
    expect(w.wallet.paid).toEqual([]);
  });

  it('hostile or broken challenges are refused before any rule or money', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const other = makeChallenge();
    const cases: [ChallengeRequest, string][] = [
      [req(makeChallenge({ invoiceHash: other.paymentHash })), 'invalid_challenge/hash_mismatch'],
      [req(makeChallenge({ now: NOW - 7200_000 })), 'invalid_challenge/invoice_expired'],
      [
        req(other, { wwwAuthenticate: 'L402 macaroon="%%%", invoice="lnbcrt1"' }),
        'invalid_challenge/malformed_challenge',
      ],
      [req(other, { wwwAuthenticate: 'Payment method="lightning", id="x"' }), 'unsupported_challenge'],
      [req(other, { serviceOrigin: 'https://evil.example' }), 'invalid_challenge'],
      [req(other, { serviceUrl: 'file:///etc/passwd' }), 'invalid_challenge'],
    ];
    for (const [r, code] of cases) expect(await codeOf(ap.handleChallenge(r))).toBe(code);

    w.wallet.network = 'bitcoin';
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(makeChallenge())))).toBe(
      'invalid_challenge/wrong_network',
    );
    expect(w.wallet.paid).toEqual([]);
  });
});

describe('challenges only the page reported', () => {
  it('for another origin are never auto-paid: the user is asked', async () => {
    const w = await world();
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c, { confirmedByBrowser: false })))).toBe(
      'rejected_by_user',
    );
    expect(w.prompts[0]?.reason).toContain('the browser did not confirm it');
    expect(w.wallet.paid).toEqual([]);
    w.answer = () => ({ choice: 'approve-once' });
    expect((await createAutopilot(w.deps).handleChallenge(req(c, { confirmedByBrowser: false }))).paid).toBe(true);
  });

  it('for another origin are never auto-paid on a site without a rule either, even with auto-pay for unlisted sites', async () => {
    const w = await world(settingsWith({ autoPayUnlisted: true }));
    const c = w.wallet.know(makeChallenge());
    expect(await codeOf(createAutopilot(w.deps).handleChallenge(req(c, { confirmedByBrowser: false })))).toBe(
      'rejected_by_user',
    );
    expect(w.prompts).toHaveLength(1);
    expect(w.prompts[0]?.reason).toContain('the browser did not confirm it');
    expect(w.wallet.paid).toEqual([]);
    expect(await getReservation(w.storage, c.paymentHash)).toBeUndefined();
    // The same challenge, seen by the browser, is paid silently within the caps.
    const paid = await createAutopilot(w.deps).handleChallenge(req(c));
    expect(paid.paid).toBe(true);
    expect(w.prompts).toHaveLength(1);
  });

  it("for the page's own origin are believed (it could serve that 402 anyway)", async () => {
    // The service is the page here: its own budget applies.
    const w = await world(settingsWith({ sites: [{ ...AUTO[0]!, pattern: SERVICE }] }));
    const c = w.wallet.know(makeChallenge());
    expect(
      (await createAutopilot(w.deps).handleChallenge(req(c, { initiator: SERVICE, confirmedByBrowser: false }))).paid,
    ).toBe(true);
    expect(w.prompts).toEqual([]);
  });
});

describe('budgets belong to the site the user is on (the initiator)', () => {
  const A = PAGE; // has a budget
  const B = 'https://evil.example'; // has none
  const spentBy = async (w: World, site: string) =>
    budgetTotals(await listReservations(w.storage), (await loadSettings(w.storage)).rules, site, w.now).siteSpentMsat;

  it("a page cannot spend another site's budget by calling a service: B → S asks and reserves nothing; A → S is paid within A's budget", async () => {
    const w = await world(settingsWith({ sites: AUTO }));
    const ap = createAutopilot(w.deps);
    // B calls S (seen by the browser): no rule for B → asked; denied → nothing reserved, nothing paid.
    const fromB = w.wallet.know(makeChallenge({ sats: 10 }));
    expect(await codeOf(ap.handleChallenge(req(fromB, { initiator: B })))).toBe('rejected_by_user');
    expect(w.prompts).toHaveLength(1);
    expect(w.prompts[0]).toMatchObject({
      origin: SERVICE,
      initiator: B,
      reason: 'no rule for this site yet',
      siteRemainingMsat: null,
    });
    expect(await getReservation(w.storage, fromB.paymentHash)).toBeUndefined();
    expect(w.wallet.paid).toEqual([]);
    // A calls the same S: paid silently, counted against A's budget (amount 10 + fee 1 sat), never B's.
    const fromA = w.wallet.know(makeChallenge({ sats: 10 }));
    expect((await ap.handleChallenge(req(fromA, { initiator: A }))).paid).toBe(true);
    expect(w.prompts).toHaveLength(1);
    expect(await getReservation(w.storage, fromA.paymentHash)).toMatchObject({
      origin: SERVICE,
      initiator: A,
      state: 'committed',
    });
    expect(await spentBy(w, A)).toBe(11_000);
    expect(await spentBy(w, B)).toBe(0);
  });

  it('a rule for the SERVICE does not let another page spend from it: only a visit to the service itself uses it', async () => {
    const w = await world(
      settingsWith({ sites: [{ pattern: SERVICE, budgetMsat: 100_000, period: 'daily', autoPay: true }] }),
    );
    const ap = createAutopilot(w.deps);
    expect(await codeOf(ap.handleChallenge(req(w.wallet.know(makeChallenge()), { initiator: B })))).toBe(
      'rejected_by_user',
    );
    expect(w.wallet.paid).toEqual([]);
    expect(await listReservations(w.storage)).toEqual([]);
    // A top-level navigation to S: the page is S itself, so S's budget applies.
    const nav = w.wallet.know(makeChallenge());
    expect((await ap.handleChallenge(req(nav, { initiator: SERVICE, source: 'navigation' }))).paid).toBe(true);
    expect(w.prompts).toHaveLength(1);
  });

  it('the deny list on the service refuses it for every initiator, even one with an auto-pay budget', async () => {
    const w = await world(
      settingsWith({
        sites: [...AUTO, { pattern: SERVICE, budgetMsat: 1e9, period: 'daily', autoPay: true }],
        deny: [SERVICE],
      }),
    );
    w.answer = () => ({ choice: 'approve-once' });
    const ap = createAutopilot(w.deps);
    for (const initiator of [A, B, SERVICE]) {
      expect(await codeOf(ap.handleChallenge(req(w.wallet.know(makeChallenge()), { initiator })))).toBe('denied');
    }
    expect(w.prompts).toEqual([]);
    expect(w.wallet.paid).toEqual([]);
    expect(await listReservations(w.storage)).toEqual([]);
  });
});

describe('tokens through the autopilot', () => {
  it('a token is only handed to the page that paid for it (and the service itself)', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    await ap.handleChallenge(req(w.wallet.know(makeChallenge())));
    expect(await ap.authorizationFor(`${SERVICE}/v1/x`, PAGE)).toMatch(/^L402 /);
    expect(await ap.authorizationFor(`${SERVICE}/v1/x`, SERVICE)).toMatch(/^L402 /);
    expect(await ap.authorizationFor(`${SERVICE}/v1/x`, 'https://evil.example')).toBeNull();
    expect(await ap.authorizationFor('https://other.example/v1/x', PAGE)).toBeNull();
    // Another page meeting the same service does not get the first page's token: it needs its own payment, and
    // PAGE's budget does not cover it (budgets belong to the initiator), so the user is asked first.
    w.answer = () => ({ choice: 'approve-once' });
    const other = await ap.handleChallenge(req(w.wallet.know(makeChallenge()), { initiator: 'https://evil.example' }));
    expect(w.prompts).toHaveLength(1);
    expect(other.paid).toBe(true);
    expect(other.token.grantedTo).toEqual(['https://evil.example']);
    expect(w.wallet.paid).toHaveLength(2);
  });

  it('loop guard: a service that rejects a fresh token is not paid again until the guard passes', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const first = await ap.handleChallenge(req(w.wallet.know(makeChallenge())));
    w.now += 5_000;
    expect(await ap.tokenRejected(`${SERVICE}/v1/similarity`, first.authorization)).toEqual({ evicted: true });
    expect(await codeOf(ap.handleChallenge(req(w.wallet.know(makeChallenge()))))).toBe('loop_guard');
    expect(w.wallet.paid).toHaveLength(1);
    w.now += 61_000;
    expect((await ap.handleChallenge(req(w.wallet.know(makeChallenge())))).paid).toBe(true);
  });

  it('an expired token is not reused', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const exp = Math.floor(NOW / 1000) + 60;
    await ap.handleChallenge(req(w.wallet.know(makeChallenge({ caveats: [caveat.validUntil('similarity', exp)] }))));
    w.now += 120_000;
    expect(await ap.authorizationFor(`${SERVICE}/v1/x`, PAGE)).toBeNull();
    expect((await ap.handleChallenge(req(w.wallet.know(makeChallenge({ now: w.now }))))).paid).toBe(true);
  });

  it('the ledger lists what happened', async () => {
    const w = await world();
    await createAutopilot(w.deps).handleChallenge(req(w.wallet.know(makeChallenge())));
    expect((await listPayments(w.storage)).map((p) => p.status)).toEqual(['succeeded']);
  });
});

describe('a known payment hash is no secret', () => {
  const EVIL = 'https://evil.example';
  /** A challenge of another server reusing `paymentHash` with its own macaroon (the invoice signer is irrelevant). */
  const replay = (paymentHash: string): Challenge => {
    const macaroon = mintMacaroon({
      rootKey: new Uint8Array(32).fill(7),
      paymentHash: hexBytes(paymentHash),
      tokenId: new Uint8Array(32).fill(1),
      caveats: [],
    });
    const invoice = makeInvoice({ paymentHash, sats: 1 });
    return { preimage: '', paymentHash, invoice, macaroon, header: formatL402Challenge({ macaroon, invoice }) };
  };
  const everyoneAutoPays = settingsWith({ sites: AUTO, autoPayUnlisted: true });

  it('another service or page offering a paid hash is refused as unpayable: nothing paid, nothing granted', async () => {
    const w = await world(everyoneAutoPays);
    const ap = createAutopilot(w.deps);
    const c = w.wallet.know(makeChallenge());
    await ap.handleChallenge(req(c));
    const before = await getPayment(w.storage, c.paymentHash);
    const r = replay(c.paymentHash);
    const cases: Partial<ChallengeRequest>[] = [
      { serviceUrl: `${EVIL}/x`, initiator: EVIL },
      { serviceUrl: `${EVIL}/x`, initiator: PAGE },
      { initiator: EVIL },
    ];
    for (const o of cases) expect(await codeOf(ap.handleChallenge(req(r, o)))).toBe('payment_failed');
    // An invoice the wallet cannot pay (unknown preimage) gets the very same answer.
    expect(await codeOf(ap.handleChallenge(req(makeChallenge(), { serviceUrl: `${EVIL}/y`, initiator: EVIL })))).toBe(
      'payment_failed',
    );
    expect(w.wallet.paid).toHaveLength(2);
    expect(await getPayment(w.storage, c.paymentHash)).toEqual(before);
    expect((await listTokens(w.deps)).map((t) => t.grantedTo)).toEqual([[PAGE]]);
  });

  it('the same page and service meeting its own paid invoice again is served its token without paying', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const c = w.wallet.know(makeChallenge());
    await ap.handleChallenge(req(c));
    const again = await ap.handleChallenge(req(c, { source: 'navigation' }));
    expect(again.paid).toBe(false);
    expect(w.wallet.paid).toHaveLength(1);
  });

  it("concurrent challenges with one hash from two pages are not coalesced: the other page does not get this page's result", async () => {
    const w = await world(everyoneAutoPays);
    const ap = createAutopilot(w.deps);
    const c = w.wallet.know(makeChallenge());
    let release = () => {};
    w.wallet.gate = () => new Promise<void>((r) => (release = r));
    const mine = ap.handleChallenge(req(c));
    await expect.poll(() => w.wallet.paid.length).toBe(1);
    const theirs = codeOf(ap.handleChallenge(req(c, { initiator: EVIL })));
    release();
    expect((await mine).paid).toBe(true);
    expect(await theirs).toBe('payment_failed');
    expect(w.wallet.paid).toHaveLength(1);
  });
});

describe('an open payment is resolved before its scope is paid again', () => {
  it('live timeout: while the first payment is unknown no second invoice of that scope is paid; once it succeeds its token serves', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    expect(await codeOf(ap.handleChallenge(req(w.wallet.know(makeChallenge()))))).toBe('payment_unknown');
    w.wallet.behaviour = 'ok';
    // The server answers the next call with a NEW invoice for the same resource.
    expect(await codeOf(ap.handleChallenge(req(w.wallet.know(makeChallenge()))))).toBe('payment_unknown');
    expect(w.wallet.paid).toHaveLength(1);
    w.wallet.hideSettled = false;
    const served = await ap.handleChallenge(req(w.wallet.know(makeChallenge())));
    expect(served.paid).toBe(false);
    expect(w.wallet.paid).toHaveLength(1);
    expect((await listPayments(w.storage)).map((p) => p.status)).toEqual(['succeeded']);
  });

  it('another scope, another page, or a payment that failed for sure does not hold a payment back', async () => {
    const w = await world(settingsWith({ sites: AUTO, autoPayUnlisted: true }));
    const ap = createAutopilot(w.deps);
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    await codeOf(
      ap.handleChallenge(req(w.wallet.know(makeChallenge({ caveats: ['path=/a'] })), { serviceUrl: `${SERVICE}/a` })),
    );
    w.wallet.behaviour = 'ok';
    expect(
      (
        await ap.handleChallenge(
          req(w.wallet.know(makeChallenge({ caveats: ['path=/b'] })), { serviceUrl: `${SERVICE}/b` }),
        )
      ).paid,
    ).toBe(true);
    expect(
      (
        await ap.handleChallenge(
          req(w.wallet.know(makeChallenge()), { serviceUrl: `${SERVICE}/a`, initiator: 'https://other.example' }),
        )
      ).paid,
    ).toBe(true);
    w.wallet.lookupDefault = { state: 'failed', reason: 'no route' };
    w.wallet.hideSettled = true;
    expect((await ap.handleChallenge(req(w.wallet.know(makeChallenge()), { serviceUrl: `${SERVICE}/a` }))).paid).toBe(
      true,
    );
  });

  it('after a restart a challenge waits for the resume in progress, and its recovered token serves', async () => {
    const w = await world();
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    await codeOf(createAutopilot(w.deps).handleChallenge(req(w.wallet.know(makeChallenge()))));
    w.wallet.behaviour = 'ok';
    const restarted = createAutopilot(w.deps);
    let answer = () => {};
    const lookup = w.wallet.lookupPayment.bind(w.wallet);
    w.wallet.lookupPayment = async (h) => {
      await new Promise<void>((r) => (answer = r));
      w.wallet.hideSettled = false;
      return lookup(h);
    };
    const resume = restarted.resumePending();
    const page = restarted.handleChallenge(req(w.wallet.know(makeChallenge())));
    await new Promise((r) => setTimeout(r, 0));
    answer();
    expect((await resume).succeeded).toHaveLength(1);
    w.wallet.lookupPayment = lookup;
    expect((await page).paid).toBe(false);
    expect(w.wallet.paid).toHaveLength(1);
  });

  it('resume backs off, then leaves "still unknown — check your wallet" in the ledger (still reserved)', async () => {
    const w = await world();
    w.wallet.behaviour = 'timeout';
    w.wallet.hideSettled = true;
    const c = w.wallet.know(makeChallenge());
    await codeOf(createAutopilot(w.deps).handleChallenge(req(c)));
    const waits: number[] = [];
    const summary = await createAutopilot(w.deps).resumeUntilKnown([1_000, 3_000], async (ms) => {
      waits.push(ms);
    });
    expect(waits).toEqual([1_000, 3_000]);
    expect(summary.stillUnknown).toEqual([c.paymentHash]);
    expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({ status: 'unknown', error: STILL_UNKNOWN });
    expect((await getReservation(w.storage, c.paymentHash))?.state).toBe('reserved');
  });
});

describe('tokens that cannot work, and repeat customers', () => {
  it('a token already expired, or scoped away from the URL, is never bought', async () => {
    const w = await world();
    const ap = createAutopilot(w.deps);
    const past = Math.floor(NOW / 1000) - 60;
    const expired = w.wallet.know(makeChallenge({ caveats: [caveat.validUntil('similarity', past)] }));
    expect(await codeOf(ap.handleChallenge(req(expired)))).toBe('unusable_token');
    const elsewhere = w.wallet.know(makeChallenge({ caveats: ['path=/other'] }));
    expect(await codeOf(ap.handleChallenge(req(elsewhere)))).toBe('unusable_token');
    expect(w.wallet.paid).toEqual([]);
    // A scope that does cover the URL is paid.
    expect((await ap.handleChallenge(req(w.wallet.know(makeChallenge({ caveats: ['path=/v1'] }))))).paid).toBe(true);
  });

  it('circuit breaker: the 4th payment to one service within 5 minutes asks, whatever the budget, and says why', async () => {
    const w = await world(
      settingsWith({ sites: [{ pattern: PAGE, budgetMsat: 10_000_000, period: 'daily', autoPay: true }] }),
    );
    const ap = createAutopilot(w.deps);
    const pay = (i: number) =>
      ap.handleChallenge(
        req(w.wallet.know(makeChallenge({ caveats: [`path=/r${i}`], now: w.now })), { serviceUrl: `${SERVICE}/r${i}` }),
      );
    for (const i of [1, 2, 3]) expect((await pay(i)).paid).toBe(true);
    expect(w.prompts).toHaveLength(0);
    expect(await codeOf(pay(4))).toBe('rejected_by_user');
    expect(w.prompts).toHaveLength(1);
    expect(w.prompts[0]?.reason).toMatch(/3 payments to https:\/\/api\.example\.com in the last 5 min/);
    expect(w.wallet.paid).toHaveLength(3);
    // Another service is not affected; and once the window has passed, the service is paid silently again.
    expect(
      (await ap.handleChallenge(req(w.wallet.know(makeChallenge()), { serviceUrl: 'https://other.example/x' }))).paid,
    ).toBe(true);
    w.now += 5 * 60_000 + 1;
    expect((await pay(5)).paid).toBe(true);
    expect(w.prompts).toHaveLength(1);
  });
});

describe('an opaque initiator', () => {
  it('is never paid automatically, even with auto-pay for unlisted sites; the prompt says what it is', async () => {
    const w = await world(settingsWith({ sites: AUTO, autoPayUnlisted: true }));
    const ap = createAutopilot(w.deps);
    expect(
      await codeOf(
        ap.handleChallenge(req(w.wallet.know(makeChallenge()), { initiator: 'null', source: 'navigation' })),
      ),
    ).toBe('rejected_by_user');
    expect(w.prompts[0]?.reason).toMatch(/no origin of its own \(a sandboxed frame or a data: page\)/);
    expect(w.wallet.paid).toEqual([]);
  });
});

describe('a frame of another site', () => {
  it("is never paid from its own site's budget while the user is on another site: asked, and the prompt names both", async () => {
    const w = await world(settingsWith({ sites: AUTO })); // PAGE (the frame's site here) has an auto-pay budget
    const ap = createAutopilot(w.deps);
    const inFrame = req(w.wallet.know(makeChallenge()), { initiator: PAGE, topSite: 'https://news.example' });
    expect(await codeOf(ap.handleChallenge(inFrame))).toBe('rejected_by_user');
    expect(w.prompts[0]?.reason).toMatch(
      new RegExp(`a frame from ${PAGE} inside https://news.example \\(the site you are on\\)`),
    );
    expect(w.wallet.paid).toEqual([]);
    expect(await listReservations(w.storage)).toEqual([]);
    // The same request with the frame's site on top (the user is there): its own budget pays.
    expect((await ap.handleChallenge(req(w.wallet.know(makeChallenge()), { initiator: PAGE }))).paid).toBe(true);
  });
});

describe('wallet answers that do not say the payment failed for sure', () => {
  it.each(['internal', 'timeout'] as const)(
    '%s → payment_unknown, still reserved, looked up before anything of that scope is paid again',
    async (code) => {
      const w = await world();
      const ap = createAutopilot(w.deps);
      const c = w.wallet.know(makeChallenge());
      const pay = w.wallet.payInvoice.bind(w.wallet);
      w.wallet.hideSettled = true;
      w.wallet.payInvoice = async (pr) => {
        await pay(pr); // the wallet did pay…
        throw new WalletError(code, 'INTERNAL: relay hiccup'); // …but its answer does not say so
      };
      expect(await codeOf(ap.handleChallenge(req(c)))).toBe('payment_unknown');
      expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({ status: 'unknown' });
      expect((await getReservation(w.storage, c.paymentHash))?.state).toBe('reserved');
      w.wallet.payInvoice = pay;
      w.wallet.hideSettled = false;
      const next = await ap.handleChallenge(req(w.wallet.know(makeChallenge())));
      expect(next.paid).toBe(false);
      expect(w.wallet.paid).toEqual([c.paymentHash]);
      expect(await getPayment(w.storage, c.paymentHash)).toMatchObject({ status: 'succeeded' });
    },
  );
});

describe('forgetting a token is one operation', () => {
  it('a rejected or revoked token goes from the store and from every header rule carrying it', async () => {
    const w = await world();
    const dropped: { authorization?: string; paymentHash?: string }[] = [];
    const ap = createAutopilot({ ...w.deps, dropHeaderRules: async (c) => void dropped.push(c) });
    const c = w.wallet.know(makeChallenge({ sats: 10 }));
    const first = await ap.handleChallenge(req(c));
    expect(await ap.tokenRejected(`${SERVICE}/`, first.authorization)).toEqual({ evicted: true });
    expect(await ap.authorizationFor(`${SERVICE}/`, PAGE)).toBeNull();
    expect(dropped).toEqual([{ authorization: first.authorization }]);

    // Revoking (the user's "forget"), in a fresh world: the loop guard above would refuse a new purchase.
    const v = await world();
    const ap2 = createAutopilot({ ...v.deps, dropHeaderRules: async (x) => void dropped.push(x) });
    const d = v.wallet.know(makeChallenge({ sats: 10 }));
    await ap2.handleChallenge(req(d));
    expect(await ap2.revokeToken(d.paymentHash)).toEqual({ revoked: true });
    expect(await ap2.authorizationFor(`${SERVICE}/`, PAGE)).toBeNull();
    expect(dropped[1]).toEqual({ paymentHash: d.paymentHash });
  });
});
