// Command-line parsing: argv → one typed command, or a UsageError that says what is wrong. No side effects.
import { parseArgs } from 'node:util';
import type { Period } from '../extension/model/model.ts';
import { PERIODS } from '../extension/model/model.ts';
import { errorMessage } from '../util/error-message.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface Globals {
  dataDir: string | undefined;
  /** --json given (else: JSON when stdout is not a terminal). */
  json: boolean;
}

/** A body given with -d: inline text, or `@path` to read from a file (`@-`: stdin). */
export type BodySource = { kind: 'text'; text: string } | { kind: 'file'; path: string };

export type RulesChange = {
  enabled?: boolean;
  perPaymentCapSats?: number | null;
  dailyCapSats?: number | null;
  autoPayUnlisted?: boolean;
  maxFeePercent?: number;
  feeFloorSats?: number;
  runBudgetSats?: number | null;
};

export type Command =
  | {
      name: 'fetch';
      url: string;
      method: string | undefined;
      headers: [string, string][];
      body: BodySource | undefined;
      maxSats: number | undefined;
      dryRun: boolean;
      runBudgetSats: number | undefined;
      include: boolean;
    }
  | { name: 'wallet-connect'; uri: string }
  | { name: 'wallet-info' }
  | { name: 'wallet-disconnect' }
  | { name: 'rules-show' }
  | { name: 'rules-set'; change: RulesChange }
  | { name: 'rules-allow'; pattern: string; budgetSats: number; period: Period; autoPay: boolean }
  | { name: 'rules-remove'; pattern: string }
  | { name: 'rules-deny'; pattern: string }
  | { name: 'rules-undeny'; pattern: string }
  | { name: 'budget' }
  | { name: 'payments'; format: 'table' | 'csv' | 'json'; limit: number | undefined }
  | { name: 'tokens-list' }
  | { name: 'tokens-forget'; what: string }
  | { name: 'mcp'; sessionBudgetSats: number | undefined }
  | { name: 'help'; topic: string | undefined }
  | { name: 'version' };

export const USAGE = `l402-autopilot: pay L402 APIs under allowance rules (one engine with the browser extension)

Usage:
  l402-autopilot fetch URL [-X METHOD] [-H 'Name: value']… [-d BODY|@file] [--max-sats N] [--dry-run] [-i] [--json]
  l402-autopilot wallet connect <nwc-uri> | wallet info | wallet disconnect
  l402-autopilot rules [show]
  l402-autopilot rules set [--enabled on|off] [--per-payment-cap N|none] [--daily-cap N|none]
                           [--auto-pay-unlisted on|off] [--max-fee-percent P] [--fee-floor N] [--run-budget N|none]
  l402-autopilot rules allow PATTERN --budget N [--period daily|weekly|monthly|never] [--ask]
  l402-autopilot rules remove PATTERN | rules deny PATTERN | rules undeny PATTERN
  l402-autopilot budget
  l402-autopilot payments [--csv | --json] [--limit N]
  l402-autopilot tokens [list] | tokens forget <payment-hash | origin>
  l402-autopilot mcp [--session-budget N]

Amounts are sats. PATTERN is an origin (https://api.example.com) or *.example.com.
Global: --data-dir DIR (default $L402_AUTOPILOT_HOME, else $XDG_DATA_HOME/l402-autopilot), --json.
Exit codes: 0 ok, 1 error, 2 usage, 3 refused by the rules, 4 wallet unreachable, 5 payment outcome unknown,
6 bad challenge, 7 payment failed.`;

function sats(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag}: expected a whole number of sats, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n * 1000)) throw new UsageError(`${flag}: ${v} is too large`);
  return n;
}

function satsOrNone(flag: string, v: string): number | null {
  return v === 'none' || v === 'off' ? null : sats(flag, v);
}

function onOff(flag: string, v: string): boolean {
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  throw new UsageError(`${flag}: expected on or off, got ${JSON.stringify(v)}`);
}

function header(v: string): [string, string] {
  const i = v.indexOf(':');
  if (i <= 0) throw new UsageError(`-H: expected 'Name: value', got ${JSON.stringify(v)}`);
  return [v.slice(0, i).trim(), v.slice(i + 1).trim()];
}

function one(positionals: string[], what: string, usage: string): string {
  if (positionals.length !== 1 || positionals[0] === undefined) {
    throw new UsageError(
      positionals.length === 0
        ? `missing ${what}: ${usage}`
        : `unexpected arguments: ${positionals.slice(1).join(' ')}`,
    );
  }
  return positionals[0];
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
type Values = Record<string, string | boolean | string[] | undefined>;

function parse(args: string[], options: OptionSpec): { values: Values; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options: { ...options, 'data-dir': { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    }) as { values: Values; positionals: string[] };
  } catch (e) {
    throw new UsageError(errorMessage(e));
  }
}

/**
 * Parses argv (without node and the script).
 * @example parseCommand(['fetch', 'http://127.0.0.1:8402/v1/pricing', '--dry-run'])
 */
export function parseCommand(argv: readonly string[]): { command: Command; globals: Globals } {
  const [name, ...rest] = argv;
  const globalsOf = (v: { 'data-dir'?: unknown; json?: unknown }): Globals => ({
    dataDir: typeof v['data-dir'] === 'string' ? v['data-dir'] : undefined,
    json: v.json === true,
  });
  const done = (command: Command, values: { 'data-dir'?: unknown; json?: unknown } = {}) => ({
    command,
    globals: globalsOf(values),
  });
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return done({ name: 'help', topic: rest[0] });
    case 'version':
    case '--version':
      return done({ name: 'version' });
    case 'fetch': {
      const { values, positionals } = parse(rest, {
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        data: { type: 'string', short: 'd' },
        'max-sats': { type: 'string' },
        'dry-run': { type: 'boolean' },
        'run-budget': { type: 'string' },
        include: { type: 'boolean', short: 'i' },
      });
      const url = one(positionals, 'URL', 'l402-autopilot fetch URL');
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new UsageError(`not a URL: ${url}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        throw new UsageError(`only http(s) URLs: ${url}`);
      const data = values.data as string | undefined;
      const method = values.request as string | undefined;
      if (method !== undefined && !/^[A-Za-z]+$/.test(method))
        throw new UsageError(`-X: not an HTTP method: ${method}`);
      return done(
        {
          name: 'fetch',
          url: parsed.href,
          method: method?.toUpperCase(),
          headers: ((values.header as string[] | undefined) ?? []).map(header),
          body:
            data === undefined
              ? undefined
              : data.startsWith('@')
                ? { kind: 'file', path: data.slice(1) }
                : { kind: 'text', text: data },
          maxSats: values['max-sats'] === undefined ? undefined : sats('--max-sats', values['max-sats'] as string),
          dryRun: values['dry-run'] === true,
          runBudgetSats:
            values['run-budget'] === undefined ? undefined : sats('--run-budget', values['run-budget'] as string),
          include: values.include === true,
        },
        values,
      );
    }
    case 'wallet': {
      const { values, positionals } = parse(rest, {});
      const [sub, ...args] = positionals;
      if (sub === 'connect')
        return done({ name: 'wallet-connect', uri: one(args, 'the NWC URI', 'wallet connect <nwc-uri>') }, values);
      if (sub === 'info' && args.length === 0) return done({ name: 'wallet-info' }, values);
      if (sub === 'disconnect' && args.length === 0) return done({ name: 'wallet-disconnect' }, values);
      throw new UsageError('wallet: expected connect <nwc-uri>, info or disconnect');
    }
    case 'rules': {
      const sub = rest[0] && !rest[0].startsWith('-') ? rest[0] : 'show';
      const args = sub === rest[0] ? rest.slice(1) : rest;
      if (sub === 'show') {
        const { values, positionals } = parse(args, {});
        if (positionals.length > 0) throw new UsageError(`rules show: unexpected ${positionals.join(' ')}`);
        return done({ name: 'rules-show' }, values);
      }
      if (sub === 'set') {
        const { values, positionals } = parse(args, {
          enabled: { type: 'string' },
          'per-payment-cap': { type: 'string' },
          'daily-cap': { type: 'string' },
          'auto-pay-unlisted': { type: 'string' },
          'max-fee-percent': { type: 'string' },
          'fee-floor': { type: 'string' },
          'run-budget': { type: 'string' },
        });
        if (positionals.length > 0) throw new UsageError(`rules set: unexpected ${positionals.join(' ')}`);
        const v = values as Record<string, string | undefined>;
        const change: RulesChange = {};
        if (v.enabled !== undefined) change.enabled = onOff('--enabled', v.enabled);
        if (v['per-payment-cap'] !== undefined)
          change.perPaymentCapSats = satsOrNone('--per-payment-cap', v['per-payment-cap']);
        if (v['daily-cap'] !== undefined) change.dailyCapSats = satsOrNone('--daily-cap', v['daily-cap']);
        if (v['auto-pay-unlisted'] !== undefined)
          change.autoPayUnlisted = onOff('--auto-pay-unlisted', v['auto-pay-unlisted']);
        if (v['max-fee-percent'] !== undefined) {
          const p = Number(v['max-fee-percent']);
          if (!Number.isFinite(p) || p < 0 || p > 100) throw new UsageError('--max-fee-percent: expected 0 to 100');
          change.maxFeePercent = p;
        }
        if (v['fee-floor'] !== undefined) change.feeFloorSats = sats('--fee-floor', v['fee-floor']);
        if (v['run-budget'] !== undefined) change.runBudgetSats = satsOrNone('--run-budget', v['run-budget']);
        if (Object.keys(change).length === 0)
          throw new UsageError('rules set: nothing to set (see l402-autopilot help)');
        return done({ name: 'rules-set', change }, values);
      }
      if (sub === 'allow') {
        const { values, positionals } = parse(args, {
          budget: { type: 'string' },
          period: { type: 'string' },
          ask: { type: 'boolean' },
        });
        const pattern = one(positionals, 'PATTERN', 'rules allow PATTERN --budget N');
        if (values.budget === undefined) throw new UsageError('rules allow: --budget N is required');
        const period = (values.period ?? 'daily') as Period;
        if (!PERIODS.includes(period)) throw new UsageError(`--period: expected one of ${PERIODS.join(', ')}`);
        return done(
          {
            name: 'rules-allow',
            pattern,
            budgetSats: sats('--budget', values.budget as string),
            period,
            autoPay: values.ask !== true,
          },
          values,
        );
      }
      if (sub === 'remove' || sub === 'deny' || sub === 'undeny') {
        const { values, positionals } = parse(args, {});
        return done({ name: `rules-${sub}`, pattern: one(positionals, 'PATTERN', `rules ${sub} PATTERN`) }, values);
      }
      throw new UsageError(`rules: unknown subcommand ${sub}`);
    }
    case 'budget': {
      const { values, positionals } = parse(rest, {});
      if (positionals.length > 0) throw new UsageError(`budget: unexpected ${positionals.join(' ')}`);
      return done({ name: 'budget' }, values);
    }
    case 'payments': {
      const { values, positionals } = parse(rest, { csv: { type: 'boolean' }, limit: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`payments: unexpected ${positionals.join(' ')}`);
      if (values.csv && values.json) throw new UsageError('payments: choose --csv or --json, not both');
      return done(
        {
          name: 'payments',
          format: values.csv ? 'csv' : values.json ? 'json' : 'table',
          limit: values.limit === undefined ? undefined : sats('--limit', values.limit as string),
        },
        values,
      );
    }
    case 'tokens': {
      const { values, positionals } = parse(rest, {});
      const [sub = 'list', ...args] = positionals;
      if (sub === 'list' && args.length === 0) return done({ name: 'tokens-list' }, values);
      if (sub === 'forget')
        return done(
          { name: 'tokens-forget', what: one(args, 'a payment hash or origin', 'tokens forget <hash|origin>') },
          values,
        );
      throw new UsageError('tokens: expected list or forget <payment-hash | origin>');
    }
    case 'mcp': {
      const { values, positionals } = parse(rest, { 'session-budget': { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`mcp: unexpected ${positionals.join(' ')}`);
      const b = values['session-budget'] as string | undefined;
      return done(
        { name: 'mcp', sessionBudgetSats: b === undefined ? undefined : sats('--session-budget', b) },
        values,
      );
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(name)}; try l402-autopilot help`);
  }
}
