// First-party caveats as `key=value` strings (docs/design.md#macaroon), Aperture's conventions:
// `services=name:tier[,…]`, `<service>_capabilities=a,b`, `<service>_valid_until=<unix s>`,
// and constraint caveats `<capability>_<constraint>=value`. Unknown keys are ignored by verifiers.
import { L402Error } from './errors.ts';

/** A parsed caveat. */
export interface Caveat {
  key: string;
  value: string;
}

/** A service and its tier, as in `services=similarity:0`. */
export interface ServiceTier {
  name: string;
  tier: number;
}

const KEY = /^[A-Za-z0-9_.-]+$/;

/** `key=value` → {@link Caveat}; throws `bad_macaroon` when there is no key. @example parseCaveat('a_valid_until=1') */
export function parseCaveat(s: string): Caveat {
  const i = s.indexOf('=');
  const key = i > 0 ? s.slice(0, i).trim() : '';
  if (!KEY.test(key)) throw new L402Error('bad_macaroon', `caveat ${JSON.stringify(s)} is not key=value`);
  return { key, value: s.slice(i + 1).trim() };
}

/** {@link Caveat} → `key=value`. @example formatCaveat({ key: 'services', value: 'x:0' }) // 'services=x:0' */
export function formatCaveat(c: Caveat): string {
  if (!KEY.test(c.key) || /[\r\n]/.test(c.value)) throw new L402Error('bad_macaroon', `bad caveat key ${c.key}`);
  return `${c.key}=${c.value}`;
}

/** Parses `name:tier[,name:tier]`. @example parseServices('similarity:0') // [{ name: 'similarity', tier: 0 }] */
export function parseServices(value: string): ServiceTier[] {
  return value.split(',').map((part) => {
    const [name, tier, extra] = part.trim().split(':');
    const t = Number(tier ?? '0');
    if (!name || extra !== undefined || !Number.isInteger(t) || t < 0) {
      throw new L402Error('caveat_failed', `services caveat part ${JSON.stringify(part)} is not name:tier`);
    }
    return { name, tier: t };
  });
}

// Names that go inside list values must not contain the list's separators (`,` `:`), or a minted caveat
// would say something else when parsed back.
function listItem(s: string): string {
  if (!KEY.test(s)) throw new L402Error('bad_macaroon', `${JSON.stringify(s)} cannot appear in a caveat list`);
  return s;
}

/** Builders for the caveats the server mints. */
export const caveat = {
  services: (services: readonly ServiceTier[]): string =>
    formatCaveat({
      key: 'services',
      value: services
        .map((s) => {
          if (!Number.isInteger(s.tier) || s.tier < 0) throw new L402Error('bad_macaroon', `bad tier ${s.tier}`);
          return `${listItem(s.name)}:${s.tier}`;
        })
        .join(','),
    }),
  capabilities: (service: string, caps: readonly string[]): string =>
    formatCaveat({ key: `${service}_capabilities`, value: caps.map(listItem).join(',') }),
  validUntil: (service: string, unixSeconds: number): string => {
    if (!Number.isFinite(unixSeconds)) throw new L402Error('bad_macaroon', `bad expiry ${unixSeconds}`);
    return formatCaveat({ key: `${service}_valid_until`, value: String(Math.floor(unixSeconds)) });
  },
  constraint: (capability: string, constraint: string, value: string | number): string =>
    formatCaveat({ key: `${capability}_${constraint}`, value: String(value) }),
};

/** What a request needs from a token. */
export interface CaveatRequirements {
  service: string;
  /** The capability the request uses (e.g. `batch`); checked against `<service>_capabilities`. */
  capability?: string;
  /** Now, in unix seconds (injected so tests control the clock). */
  now: number;
  /**
   * Checks for constraint caveats by full key (e.g. `batch_max_work`): return true when the request is
   * within the constraint, or a string explaining why not.
   */
  constraints?: Record<string, (value: string) => true | string>;
}

/** What the caveats granted, after {@link checkCaveats}. */
export interface Granted {
  tier: number;
  capabilities: string[] | null;
  validUntil: number | null;
}

/**
 * Checks every caveat against the request. Each occurrence of a repeated key must hold, so a later
 * caveat can only narrow what an earlier one allowed. Throws `caveat_failed` naming the caveat.
 * @example checkCaveats(['services=similarity:0'], { service: 'similarity', now: Date.now() / 1000 })
 */
export function checkCaveats(caveats: readonly string[], req: CaveatRequirements): Granted {
  return compileCaveats(caveats, req.service).check(req);
}

/** One caveat, reduced to what still depends on the request (in the macaroon's order). */
type Step =
  | { kind: 'fail'; message: string }
  | { kind: 'capabilities'; caps: readonly string[] }
  | { kind: 'until'; until: number }
  | { kind: 'constraint'; key: string; value: string };

/**
 * Caveats parsed once for one service; `check` then does only the per-request part (capability, clock,
 * constraints), with the same verdict and message as {@link checkCaveats}. A server caches this per credential.
 */
export interface CompiledCaveats {
  readonly service: string;
  /** What the caveats grant when {@link CompiledCaveats.assert} passes (shared: do not change it). */
  readonly granted: Readonly<Granted>;
  /** Throws `caveat_failed` exactly where {@link checkCaveats} would; allocates nothing when it passes. */
  assert(req: CaveatRequirements): void;
  /** {@link CompiledCaveats.assert}, then a copy of the grant. */
  check(req: CaveatRequirements): Granted;
}

/** Parses `caveats` for `service` (never throws: an unsatisfiable caveat becomes a failing step). */
export function compileCaveats(caveats: readonly string[], service: string): CompiledCaveats {
  const steps: Step[] = [];
  const granted: Granted = { tier: 0, capabilities: null, validUntil: null };
  let sawServices = false;
  const capsKey = `${service}_capabilities`;
  const untilKey = `${service}_valid_until`;
  for (const raw of caveats) {
    let parsed: Caveat;
    try {
      parsed = parseCaveat(raw);
    } catch {
      // A signed caveat we cannot even read is not satisfied (the signature itself was fine).
      steps.push({ kind: 'fail', message: `caveat ${JSON.stringify(raw)} is not key=value` });
      break;
    }
    const { key, value } = parsed;
    if (key === 'services') {
      let match: ServiceTier | undefined;
      try {
        match = parseServices(value).find((s) => s.name === service);
      } catch (e) {
        steps.push({ kind: 'fail', message: (e as Error).message });
        break;
      }
      if (!match) {
        steps.push({ kind: 'fail', message: `token is not valid for service ${service}` });
        break;
      }
      // Repeated keys only narrow: a later services caveat cannot raise the tier.
      granted.tier = sawServices ? Math.min(granted.tier, match.tier) : match.tier;
      sawServices = true;
    } else if (key === capsKey) {
      const caps = value
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      granted.capabilities = granted.capabilities ? granted.capabilities.filter((c) => caps.includes(c)) : caps;
      steps.push({ kind: 'capabilities', caps });
    } else if (key === untilKey) {
      const until = Number(value);
      if (!Number.isFinite(until)) {
        steps.push({ kind: 'fail', message: `bad expiry caveat ${raw}` });
        break;
      }
      granted.validUntil = granted.validUntil === null ? until : Math.min(granted.validUntil, until);
      steps.push({ kind: 'until', until });
    } else {
      steps.push({ kind: 'constraint', key, value });
    }
  }
  if (!sawServices && steps.at(-1)?.kind !== 'fail') steps.push({ kind: 'fail', message: 'token names no service' });
  const assert = (req: CaveatRequirements): void => {
    if (req.service !== service) {
      compileCaveats(caveats, req.service).assert(req);
      return;
    }
    for (const step of steps) {
      switch (step.kind) {
        case 'fail':
          throw new L402Error('caveat_failed', step.message);
        case 'capabilities':
          if (req.capability !== undefined && !step.caps.includes(req.capability)) {
            throw new L402Error('caveat_failed', `token does not grant capability ${req.capability}`);
          }
          break;
        case 'until':
          if (req.now >= step.until) throw new L402Error('caveat_failed', `token expired at ${step.until}`);
          break;
        case 'constraint': {
          const check = req.constraints?.[step.key];
          if (check) {
            const ok = check(step.value);
            if (ok !== true) throw new L402Error('caveat_failed', `${step.key}: ${ok}`);
          }
        }
      }
    }
  };
  return {
    service,
    granted,
    assert,
    check(req) {
      if (req.service !== service) return compileCaveats(caveats, req.service).check(req);
      assert(req);
      return {
        tier: granted.tier,
        capabilities: granted.capabilities && [...granted.capabilities],
        validUntil: granted.validUntil,
      };
    },
  };
}
