// handleDemand: the `Payment` charge and x402 Lightning through the same rules, ledger and proofs as L402; one
// option per request; what is not paid is said; and the loop guard against a token refused right after purchase.
import { describe, expect, it } from 'vitest';
import {
  bytesToBase64,
  encodeChargeRequest,
  formatPaymentChallenge,
  paymentHashOf,
  parsePaymentCredential,
  parseX402PaymentSignature,
} from '../../l402/index.ts';
import type { PromptRequest } from '../model/model.ts';
import { type ChallengeRequest, createAutopilot } from './autopilot.ts';
import { challengeLines, mayCarryDemand, unsupportedText, demandOf } from './demand.ts';
import { type DetectorDeps, on402 } from './detector.ts';
import { AutopilotError } from './errors.ts';
import { dropUsedOneTimeRules, type HeaderRule, listHeaderRules, addHeaderRule } from './header-rules.ts';
import { listPayments } from './ledger.ts';
import { saveSettings } from './settings.ts';
import { memoryStorage } from './storage.ts';
import {
  FakeWallet,
  makeChallenge,
  makeInvoice,
  newPreimage,
  NOW,
  settingsWith,
} from '../../../test/support/background-fixtures.ts';
import { listTokens } from './tokens.ts';

const SERVICE = 'https://api.example.com';
const PAGE = 'https://app.example.org';
const AUTO = [{ pattern: PAGE, budgetMsat: 1_000_000, period: 'daily' as const, autoPay: true }];

async function world() {
  const storage = memoryStorage();
  await saveSettings(storage, settingsWith({ sites: AUTO }));
  const wallet = new FakeWallet();
  const prompts: PromptRequest[] = [];
  const w = { storage, wallet, prompts, now: NOW };
  const ap = createAutopilot({
    storage,
    clock: () => w.now,
    wallet: async () => wallet,
    prompt: async (r) => {
      prompts.push(r);
      return { choice: 'approve-once' };
    },
  });
  return { ...w, ap, w };
}

/** A Lightning charge whose invoice the fake wallet can pay. */
function charge(wallet: FakeWallet, sats = 10) {
  const preimage = newPreimage();
  const paymentHash = paymentHashOf(preimage);
  wallet.preimages.set(paymentHash, preimage);
  const invoice = makeInvoice({ paymentHash, sats });
  const request = encodeChargeRequest({
    amount: String(sats),
    currency: 'sat',
    methodDetails: { invoice, paymentHash },
  });
  const header = formatPaymentChallenge({
    id: 'abc',
    realm: 'api.example.com',
    method: 'lightning',
    intent: 'charge',
    request,
  });
  return { preimage, paymentHash, invoice, header };
}

function x402(accepts: unknown[]): string {
  return bytesToBase64(new TextEncoder().encode(JSON.stringify({ x402Version: 2, accepts })));
}

const req = (o: Partial<ChallengeRequest>): ChallengeRequest => ({
  serviceUrl: `${SERVICE}/v1/similarity`,
  initiator: PAGE,
  wwwAuthenticate: [],
  source: 'fetch',
  confirmedByBrowser: true,
  ...o,
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    if (e instanceof AutopilotError) return e.code;
    throw e;
  }
}

describe('handleDemand', () => {
  it('pays a Payment charge once: ledger kind payment, a credential echoing the challenge with the preimage, no token', async () => {
    const { ap, wallet, storage } = await world();
    const c = charge(wallet);
    const r = await ap.handleDemand(req({ wwwAuthenticate: [c.header] }));
    if (!r.oneTime) throw new Error('expected a one-time charge');
    expect(r.header).toBe('Authorization');
    const cred = parsePaymentCredential(r.authorization);
    expect(cred.payload).toEqual({ preimage: c.preimage });
    expect(cred.challenge.id).toBe('abc');
    expect((await listPayments(storage)).map((p) => [p.kind, p.status, p.paymentHash])).toEqual([
      ['payment', 'succeeded', c.paymentHash],
    ]);
    expect(await listTokens({ storage, clock: () => NOW })).toEqual([]);
    expect(wallet.paid).toEqual([c.paymentHash]);
  });

  it('offered L402 and a charge, buys the reusable token only', async () => {
    const { ap, wallet, storage } = await world();
    const l = wallet.know(makeChallenge({ sats: 20 }));
    const c = charge(wallet, 5);
    const r = await ap.handleDemand(req({ wwwAuthenticate: [c.header, l.header] }));
    expect(r.oneTime).toBe(false);
    expect(wallet.paid).toEqual([l.paymentHash]);
    expect((await listPayments(storage)).map((p) => p.kind)).toEqual(['l402']);
  });

  it('asks with the charge named (prompt kind payment) outside the rules', async () => {
    const { ap, wallet, storage, prompts } = await world();
    await saveSettings(storage, settingsWith({ sites: [] }));
    const r = await ap.handleDemand(req({ wwwAuthenticate: [charge(wallet).header] }));
    expect(r.oneTime).toBe(true);
    expect(prompts.map((p) => p.kind)).toEqual(['payment']);
  });

  it('pays an x402 Lightning offer: PAYMENT-SIGNATURE naming the paid invoice, ledger kind x402', async () => {
    const { ap, wallet, storage } = await world();
    const c = charge(wallet);
    const pr = x402([
      {
        scheme: 'exact',
        network: 'bip122:0f9188f13cb7b2c71f2a335e3a4fc328',
        amount: '10000',
        extra: { paymentMethod: 'lightning', invoice: c.invoice },
      },
    ]);
    const r = await ap.handleDemand(req({ paymentRequired: pr }));
    if (!r.oneTime) throw new Error('expected a one-time charge');
    expect(r.header).toBe('PAYMENT-SIGNATURE');
    expect(parseX402PaymentSignature(r.authorization).payload.invoice).toBe(c.invoice);
    expect((await listPayments(storage)).map((p) => p.kind)).toEqual(['x402']);
  });

  it('x402 on another network and an unknown Payment method are named and never paid', async () => {
    const { ap, wallet, storage } = await world();
    const pr = x402([{ scheme: 'exact', network: 'eip155:8453', amount: '10000', asset: 'USDC' }]);
    await expect(ap.handleDemand(req({ paymentRequired: pr }))).rejects.toThrow(/x402 exact on eip155:8453 \(USDC\)/);
    const stripe = 'Payment id="x", realm="r", method="stripe", intent="charge", request="e30"';
    await expect(ap.handleDemand(req({ wwwAuthenticate: [stripe] }))).rejects.toThrow(/Payment stripe\/charge/);
    expect(await codeOf(ap.handleDemand(req({ paymentRequired: pr })))).toBe('unsupported_challenge');
    expect(wallet.paid).toEqual([]);
    expect(await listPayments(storage)).toEqual([]);
  });

  it('a charge the page could not use (reusableOnly) is not paid', async () => {
    const { ap, wallet } = await world();
    expect(await codeOf(ap.handleDemand(req({ wwwAuthenticate: [charge(wallet).header], reusableOnly: true })))).toBe(
      'unsupported_challenge',
    );
    expect(wallet.paid).toEqual([]);
  });

  it('a charge whose amount disagrees with its invoice is refused before any rule', async () => {
    const { ap, wallet } = await world();
    const c = charge(wallet, 10);
    const request = encodeChargeRequest({ amount: '1', currency: 'sat', methodDetails: { invoice: c.invoice } });
    const header = formatPaymentChallenge({ id: 'abc', realm: 'r', method: 'lightning', intent: 'charge', request });
    expect(await codeOf(ap.handleDemand(req({ wwwAuthenticate: [header] })))).toBe('invalid_challenge');
    expect(wallet.paid).toEqual([]);
  });
});

describe('loop guard and re-challenges', () => {
  it('a token refused right after it was bought still stops the next payment', async () => {
    const { ap, wallet, w } = await world();
    const first = await ap.handleDemand(req({ wwwAuthenticate: [wallet.know(makeChallenge()).header] }));
    w.now += 2_000;
    await ap.tokenRejected(`${SERVICE}/v1/similarity`, first.authorization);
    expect(await codeOf(ap.handleDemand(req({ wwwAuthenticate: [wallet.know(makeChallenge()).header] })))).toBe(
      'loop_guard',
    );
    expect(wallet.paid).toHaveLength(1);
  });

  it('a token that served later requests and is then refused (expired at the server) is replaced at once', async () => {
    const { ap, wallet, w } = await world();
    const first = await ap.handleDemand(req({ wwwAuthenticate: [wallet.know(makeChallenge()).header] }));
    w.now += 2_000;
    expect(await ap.attachFor(`${SERVICE}/v1/similarity`, PAGE)).toBe(first.authorization);
    await ap.tokenRejected(`${SERVICE}/v1/similarity`, first.authorization);
    const again = await ap.handleDemand(req({ wwwAuthenticate: [wallet.know(makeChallenge({ now: w.now })).header] }));
    expect(again.paid).toBe(true);
    expect(wallet.paid).toHaveLength(2);
  });
});

describe('demand helpers', () => {
  it('remembers PAYMENT-REQUIRED with the challenge lines, sniffs every scheme, names only fully unsupported demands', () => {
    expect(challengeLines(['L402 a'], null)).toEqual(['L402 a']);
    expect(challengeLines([], 'eyJ9')).toEqual(['PAYMENT-REQUIRED eyJ9']);
    expect(mayCarryDemand(['Basic realm="x"'], null)).toBe(false);
    expect(mayCarryDemand(['Payment id="x"'], null)).toBe(true);
    expect(mayCarryDemand([], 'eyJ9')).toBe(true);
    // A broken L402 line is the token path's to explain (its checks say what is wrong).
    expect(unsupportedText(demandOf(['L402 macaroon="m"'], null))).toBeNull();
    expect(unsupportedText(demandOf([], x402([{ scheme: 'exact', network: 'eip155:1', amount: '1' }])))).toMatch(
      /eip155:1/,
    );
  });

  it('a one-time header rule goes once a request left with it; a token rule stays', async () => {
    const rules = { storage: memoryStorage(), clock: () => NOW, dnr: { updateSessionRules: async () => {} } };
    const base: Omit<HeaderRule, 'id' | 'authorization'> = {
      tabId: 1,
      origin: SERVICE,
      pathPrefix: '/v1',
      resourceTypes: ['main_frame'],
      initiator: null,
      paymentHash: 'aa',
      expiresAt: null,
    };
    await addHeaderRule(rules, { ...base, authorization: 'L402 token' });
    await addHeaderRule(rules, {
      ...base,
      pathPrefix: '/v1/x',
      authorization: 'sig',
      header: 'PAYMENT-SIGNATURE',
      oneTime: true,
    });
    expect(await dropUsedOneTimeRules(rules, 1, [{ name: 'authorization', value: 'L402 token' }])).toBe(0);
    expect(await dropUsedOneTimeRules(rules, 1, [{ name: 'payment-signature', value: 'sig' }])).toBe(1);
    expect((await listHeaderRules(rules)).map((r) => r.authorization)).toEqual(['L402 token']);
  });
});

describe('detector: 401 re-challenges, unsupported offers, one-time navigations', () => {
  const fake = (log: string[], over: Partial<DetectorDeps> = {}): DetectorDeps => ({
    countChallenge: async () => void log.push('count'),
    remember: async (_t, _u, lines) => void log.push(`remember ${lines.length}`),
    resetTab: async () => void log.push('reset'),
    pageChanged: async () => {},
    topOrigin: async (d) => new URL(d.url).origin,
    handle: async (r) => {
      log.push(`handle${r.reusableOnly ? ' reusableOnly' : ''}`);
      return {
        authorization: 'Payment x',
        origin: SERVICE,
        pathPrefix: '/paid',
        paymentHash: 'aa',
        validUntil: 1,
        oneTime: { header: 'Authorization' },
      };
    },
    existingRule: async () => ({ authorization: 'L402 a:1' }),
    sentWith: () => undefined,
    tokenRejected: async () => void log.push('rejected'),
    addRule: async (r) => void log.push(`rule ${r.oneTime ? 'one-time' : 'token'}`),
    navigate: async () => void log.push('navigate'),
    report: (e) => void log.push(`report ${(e as { code?: string }).code}`),
    ...over,
  });
  const nav = (statusCode: number, headers: { name: string; value: string }[]) =>
    ({
      tabId: 3,
      frameId: 0,
      requestId: '1',
      method: 'GET',
      timeStamp: 0,
      parentFrameId: -1,
      statusLine: '',
      type: 'main_frame',
      url: `${SERVICE}/paid`,
      statusCode,
      responseHeaders: headers,
    }) as chrome.webRequest.OnHeadersReceivedDetails;

  it('a 401 with a challenge to a navigation that carried our token: the token goes, the new payment reloads the page', async () => {
    const token = async () => ({
      authorization: 'L402 b:2',
      origin: SERVICE,
      pathPrefix: '/',
      paymentHash: 'bb',
      validUntil: null,
    });
    const www = [{ name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' }];
    const log: string[] = [];
    await on402(fake(log, { handle: token }), nav(401, www));
    expect(log).toEqual(['remember 1', 'rejected', 'rule token', 'navigate']);
    // A 402 to the token (maybe a loop) gets the new rule without a reload, as before.
    const again: string[] = [];
    await on402(fake(again, { handle: token }), nav(402, www));
    expect(again).toEqual(['remember 1', 'count', 'rejected', 'rule token']);
    // A one-time charge: its own rule, then the one navigation it was bought for.
    const once: string[] = [];
    await on402(
      fake(once, { existingRule: async () => null }),
      nav(402, [{ name: 'WWW-Authenticate', value: charge(new FakeWallet()).header }]),
    );
    expect(once).toEqual(['remember 1', 'count', 'handle', 'rule one-time', 'navigate']);
  });

  it('a 401 without a challenge, or to a request without our token, is left alone', async () => {
    const plain: string[] = [];
    await on402(fake(plain), nav(401, [{ name: 'WWW-Authenticate', value: 'Basic realm="x"' }]));
    expect(plain).toEqual(['reset']);
    const notOurs: string[] = [];
    await on402(
      fake(notOurs, { existingRule: async () => null }),
      nav(401, [{ name: 'WWW-Authenticate', value: 'L402 macaroon="m", invoice="i"' }]),
    );
    expect(notOurs).toEqual(['remember 1', 'reset']);
  });

  it('an x402 offer on another network is reported, not counted, not paid', async () => {
    const log: string[] = [];
    await on402(
      fake(log),
      nav(402, [{ name: 'PAYMENT-REQUIRED', value: x402([{ scheme: 'exact', network: 'eip155:8453', amount: '1' }]) }]),
    );
    expect(log).toEqual(['remember 1', 'report unsupported_challenge']);
  });

  it("Firefox's newline-joined header lines are read as separate challenges", async () => {
    const lines: string[][] = [];
    const log: string[] = [];
    const d = fake(log, { remember: async (_t, _u, l) => void lines.push(l), existingRule: async () => null });
    await on402(
      d,
      nav(402, [{ name: 'www-authenticate', value: 'LSAT macaroon="m", invoice="i"\nL402 macaroon="m", invoice="i"' }]),
    );
    expect(lines).toEqual([['LSAT macaroon="m", invoice="i"', 'L402 macaroon="m", invoice="i"']]);
  });
});
