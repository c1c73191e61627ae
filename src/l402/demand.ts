// One 402, every way to pay it: L402 (bLIP-0026), the `Payment` scheme's Lightning charge and x402's Lightning
// variant, plus the offers we recognise but never pay. Invoice sanity runs per scheme before any rule, and the
// chooser picks exactly one option (see docs/toolkit.md "Schemes").
import { type AuthChallenge, type L402Challenge, parseWwwAuthenticate } from './challenge.ts';
import { isL402Error, L402Error } from './errors.ts';
import { assertPayable, type DecodedInvoice, decodeInvoice, type PayableChecks } from './invoice.ts';
import { type DecodedMacaroon, decodeMacaroon } from './macaroon.ts';
import {
  type ChargeRequest,
  decodeChargeRequest,
  expiresSeconds,
  type PaymentChallenge,
  paymentChallengesOf,
} from './payment-scheme.ts';
import {
  BIP122_NETWORKS,
  describeX402,
  isX402Lightning,
  parseX402PaymentRequired,
  type X402LightningRequirements,
  type X402PaymentRequired,
} from './x402.ts';
import { errorMessage } from '../util/error-message.ts';

/** A way to pay a 402. `reusable` options buy a token that serves later requests; the others pay once. */
export type PaymentOption =
  | { scheme: 'l402'; invoice: string; reusable: true; challenge: L402Challenge }
  | { scheme: 'payment'; invoice: string; reusable: false; challenge: PaymentChallenge; request: ChargeRequest }
  | {
      scheme: 'x402';
      invoice: string;
      reusable: false;
      requirements: X402LightningRequirements;
      paymentRequired: X402PaymentRequired;
    };

/** An offer we recognise but do not pay (another x402 network, a `Payment` session, a broken challenge…). */
export interface UnsupportedOffer {
  scheme: 'l402' | 'payment' | 'x402';
  /** What to show the user, e.g. `x402 exact on eip155:8453 (USDC)` or `Payment stripe/charge`. */
  name: string;
  reason: string;
}

/** Everything a 402 response asks for. Payable only when `options` is non-empty. */
export interface PaymentDemand {
  options: PaymentOption[];
  unsupported: UnsupportedOffer[];
  /** Every WWW-Authenticate scheme seen (for "asks for Basic" style messages). */
  schemes: string[];
}

/** The parts of a response {@link readPaymentDemand} looks at. */
export interface DemandParts {
  wwwAuthenticate?: string | readonly string[] | null;
  /** x402's `PAYMENT-REQUIRED` header. */
  paymentRequired?: string | null;
}

const message = (e: unknown) => errorMessage(e);

function l402Options(all: readonly AuthChallenge[], out: PaymentDemand): void {
  // The L402 line wins over its LSAT twin (same macaroon and invoice): one option, never two.
  const l402 = all.filter((c) => c.scheme.toUpperCase() === 'L402');
  const lsat = all.filter((c) => c.scheme.toUpperCase() === 'LSAT');
  const seen = new Set<string>();
  for (const c of [...l402, ...lsat]) {
    const scheme = c.scheme.toUpperCase() as 'L402' | 'LSAT';
    const macaroon = c.params.macaroon ?? c.params.token;
    const invoice = c.params.invoice;
    if (!macaroon || !invoice || !/^ln[a-z0-9]+$/i.test(invoice)) {
      out.unsupported.push({
        scheme: 'l402',
        name: scheme,
        reason: `${scheme} challenge lacks macaroon/token or a BOLT11 invoice`,
      });
      continue;
    }
    // bLIP-0026 defines version 0; a later version may change what the credential must be.
    if (c.params.version !== undefined && c.params.version !== '0') {
      out.unsupported.push({
        scheme: 'l402',
        name: scheme,
        reason: `${scheme} version ${c.params.version.slice(0, 20)} is unknown`,
      });
      continue;
    }
    const key = `${macaroon} ${invoice.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const challenge: L402Challenge = { scheme, macaroon, invoice };
    if (c.params.version !== undefined) challenge.version = c.params.version;
    out.options.push({ scheme: 'l402', invoice, reusable: true, challenge });
  }
}

function paymentOptions(all: readonly AuthChallenge[], out: PaymentDemand): void {
  if (!all.some((c) => c.scheme.toLowerCase() === 'payment')) return;
  let challenges: PaymentChallenge[];
  try {
    challenges = paymentChallengesOf(all);
  } catch (e) {
    out.unsupported.push({ scheme: 'payment', name: 'Payment', reason: message(e) });
    return;
  }
  for (const c of challenges) {
    const name = `Payment ${c.method.slice(0, 40)}/${c.intent.slice(0, 40)}`;
    if (c.method.toLowerCase() !== 'lightning' || c.intent.toLowerCase() !== 'charge') {
      out.unsupported.push({ scheme: 'payment', name, reason: 'only the Lightning charge is paid' });
      continue;
    }
    try {
      const request = decodeChargeRequest(c.request);
      out.options.push({
        scheme: 'payment',
        invoice: request.methodDetails.invoice,
        reusable: false,
        challenge: c,
        request,
      });
    } catch (e) {
      out.unsupported.push({ scheme: 'payment', name, reason: message(e) });
    }
  }
}

function x402Options(header: string, out: PaymentDemand): void {
  let pr: X402PaymentRequired;
  try {
    pr = parseX402PaymentRequired(header);
  } catch (e) {
    out.unsupported.push({ scheme: 'x402', name: 'x402', reason: message(e) });
    return;
  }
  if (pr.x402Version !== 2) {
    out.unsupported.push({ scheme: 'x402', name: `x402 v${pr.x402Version}`, reason: 'only x402 v2 is paid' });
    return;
  }
  for (const r of pr.accepts) {
    if (isX402Lightning(r) && r.scheme === 'exact') {
      out.options.push({
        scheme: 'x402',
        invoice: r.extra.invoice,
        reusable: false,
        requirements: r,
        paymentRequired: pr,
      });
    } else {
      out.unsupported.push({ scheme: 'x402', name: describeX402(r), reason: 'not a Lightning invoice' });
    }
  }
}

/**
 * Lists every payable option of a 402 (and every offer we will not pay). Never throws.
 * @example readPaymentDemand({ wwwAuthenticate: res.headers.get('www-authenticate'), paymentRequired: res.headers.get('payment-required') })
 */
export function readPaymentDemand(parts: DemandParts): PaymentDemand {
  const out: PaymentDemand = { options: [], unsupported: [], schemes: [] };
  const wa = parts.wwwAuthenticate;
  if (wa && wa.length > 0) {
    let all: AuthChallenge[] = [];
    try {
      all = parseWwwAuthenticate(wa);
    } catch (e) {
      out.unsupported.push({ scheme: 'l402', name: 'WWW-Authenticate', reason: message(e) });
    }
    out.schemes = all.map((c) => c.scheme);
    l402Options(all, out);
    paymentOptions(all, out);
  }
  if (parts.paymentRequired) x402Options(parts.paymentRequired, out);
  return out;
}

/** An option whose invoice passed every check: safe to put before the rules. */
export interface CheckedOption {
  option: PaymentOption;
  invoice: DecodedInvoice & { amountMsat: number };
  /** For L402 only. */
  macaroon: DecodedMacaroon | null;
  /** Unix seconds after which this option can no longer be paid (invoice or challenge expiry, whichever first). */
  payableUntil: number;
}

const NETWORK_NAMES: Readonly<Record<string, string>> = { bitcoin: 'mainnet', main: 'mainnet', testnet3: 'testnet' };

/**
 * Invoice sanity for one option, before any rule: the invoice decodes, is not expired, is on an allowed network
 * and has an amount; the scheme's own amount equals the invoice's, its hash (when given) equals the invoice's, its
 * network (when given) is the invoice's, and its own expiry has not passed. Throws an `L402Error`.
 * @example const checked = checkOption(demand.options[0], { now: Date.now() / 1000, networks: ['regtest'] });
 */
export function checkOption(option: PaymentOption, checks: Omit<PayableChecks, 'paymentHash'>): CheckedOption {
  const margin = checks.expiryMarginSeconds ?? 0;
  const decoded = decodeInvoice(option.invoice);
  if (option.scheme === 'l402') {
    const macaroon = decodeMacaroon(option.challenge.macaroon);
    const invoice = assertPayable(decoded, { ...checks, paymentHash: macaroon.paymentHash });
    return { option, invoice, macaroon, payableUntil: invoice.expiresAt };
  }
  if (option.scheme === 'payment') {
    const { request, challenge } = option;
    const invoice = assertPayable(decoded, {
      ...checks,
      ...(request.methodDetails.paymentHash ? { paymentHash: request.methodDetails.paymentHash } : {}),
    });
    if (request.currency !== 'sat')
      throw new L402Error(
        'amount_mismatch',
        `Payment charge currency ${JSON.stringify(request.currency.slice(0, 20))} is not sat`,
      );
    if (BigInt(request.amount) * 1000n !== BigInt(invoice.amountMsat)) {
      throw new L402Error(
        'amount_mismatch',
        `Payment charge asks ${request.amount} sat, its invoice ${invoice.amountMsat} msat`,
      );
    }
    const net = request.methodDetails.network?.toLowerCase();
    if (net !== undefined && (NETWORK_NAMES[net] ?? net) !== invoice.network) {
      throw new L402Error(
        'wrong_network',
        `Payment charge says ${net.slice(0, 20)}, its invoice is for ${invoice.network}`,
      );
    }
    let payableUntil = invoice.expiresAt;
    if (challenge.expires !== undefined) {
      const until = expiresSeconds(challenge.expires);
      if (checks.now + margin >= until)
        throw new L402Error('invoice_expired', `the Payment challenge expired at ${challenge.expires}`);
      payableUntil = Math.min(payableUntil, until);
    }
    return { option, invoice, macaroon: null, payableUntil };
  }
  const r = option.requirements;
  const invoice = assertPayable(decoded, checks);
  if (!/^[0-9]{1,19}$/.test(r.amount) || BigInt(r.amount) !== BigInt(invoice.amountMsat)) {
    throw new L402Error(
      'amount_mismatch',
      `x402 asks ${r.amount.slice(0, 20)} msat, its invoice ${invoice.amountMsat} msat`,
    );
  }
  const net = BIP122_NETWORKS[r.network];
  if (net !== invoice.network) {
    throw new L402Error(
      'wrong_network',
      `x402 network ${r.network.slice(0, 80)} does not match the invoice's ${invoice.network}`,
    );
  }
  return { option, invoice, macaroon: null, payableUntil: invoice.expiresAt };
}

/** The outcome of {@link chooseOption}: one option to pay (or none) and why each other one was refused. */
export interface Choice {
  chosen: CheckedOption | null;
  refused: { option: PaymentOption; error: L402Error }[];
}

/**
 * Checks every option and picks ONE: a reusable L402 token over a one-time charge, else the cheapest (the
 * server's order breaks ties). Never returns two, so one request never pays twice.
 * @example const { chosen } = chooseOption(readPaymentDemand(parts), { now: Date.now() / 1000 });
 */
export function chooseOption(demand: PaymentDemand, checks: Omit<PayableChecks, 'paymentHash'>): Choice {
  const ok: CheckedOption[] = [];
  const refused: Choice['refused'] = [];
  for (const option of demand.options) {
    try {
      ok.push(checkOption(option, checks));
    } catch (e) {
      if (!isL402Error(e)) throw e;
      refused.push({ option, error: e });
    }
  }
  let chosen: CheckedOption | null = null;
  for (const c of ok) {
    if (!chosen) chosen = c;
    else if (c.option.reusable !== chosen.option.reusable) {
      if (c.option.reusable) chosen = c;
    } else if (c.invoice.amountMsat < chosen.invoice.amountMsat) chosen = c;
  }
  return { chosen, refused };
}
