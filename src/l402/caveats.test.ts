// compileCaveats does the parsing once per credential; its per-request check must agree with the plain
// one-pass reading of the caveats (kept here as the reference) on every verdict and message.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CaveatRequirements,
  checkCaveats,
  compileCaveats,
  type Granted,
  parseCaveat,
  parseServices,
} from './caveats.ts';
import { L402Error } from './errors.ts';

/** The one-pass reading (how checkCaveats worked before it was compiled): parse and check each caveat in order. */
function reference(caveats: readonly string[], req: CaveatRequirements): Granted {
  const granted: Granted = { tier: 0, capabilities: null, validUntil: null };
  let sawServices = false;
  for (const raw of caveats) {
    let parsed: { key: string; value: string };
    try {
      parsed = parseCaveat(raw);
    } catch {
      throw new L402Error('caveat_failed', `caveat ${JSON.stringify(raw)} is not key=value`);
    }
    const { key, value } = parsed;
    if (key === 'services') {
      const match = parseServices(value).find((s) => s.name === req.service);
      if (!match) throw new L402Error('caveat_failed', `token is not valid for service ${req.service}`);
      granted.tier = sawServices ? Math.min(granted.tier, match.tier) : match.tier;
      sawServices = true;
    } else if (key === `${req.service}_capabilities`) {
      const caps = value
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      granted.capabilities = granted.capabilities ? granted.capabilities.filter((c) => caps.includes(c)) : caps;
      if (req.capability !== undefined && !caps.includes(req.capability)) {
        throw new L402Error('caveat_failed', `token does not grant capability ${req.capability}`);
      }
    } else if (key === `${req.service}_valid_until`) {
      const until = Number(value);
      if (!Number.isFinite(until)) throw new L402Error('caveat_failed', `bad expiry caveat ${raw}`);
      if (req.now >= until) throw new L402Error('caveat_failed', `token expired at ${until}`);
      granted.validUntil = granted.validUntil === null ? until : Math.min(granted.validUntil, until);
    } else {
      const check = req.constraints?.[key];
      if (check) {
        const ok = check(value);
        if (ok !== true) throw new L402Error('caveat_failed', `${key}: ${ok}`);
      }
    }
  }
  if (!sawServices) throw new L402Error('caveat_failed', 'token names no service');
  return granted;
}

const outcome = (f: () => Granted): { ok: Granted } | { code: string; message: string } => {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof L402Error)) throw e;
    return { code: e.code, message: e.message };
  }
};

const services = ['sim', 'other'];
const caveatArb = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom(...services, 'x'), fc.constantFrom('0', '1', '2', '-1', 'a')), {
      minLength: 1,
      maxLength: 3,
    })
    .map((ps) => `services=${ps.map(([n, t]) => `${n}:${t}`).join(',')}`),
  fc
    .tuple(fc.constantFrom(...services), fc.subarray(['pair', 'batch', 'x']))
    .map(([s, caps]) => `${s}_capabilities=${caps.join(',')}`),
  fc
    .tuple(fc.constantFrom(...services), fc.constantFrom('90', '100', '110', 'soon'))
    .map(([s, t]) => `${s}_valid_until=${t}`),
  fc.constantFrom('batch_max_work=10', 'batch_max_work=1000', 'batch_max_work=lots', 'note=hi', '=broken', 'no equals'),
);
const reqArb = fc.record({
  service: fc.constantFrom(...services),
  capability: fc.option(fc.constantFrom('pair', 'batch', 'x'), { nil: undefined }),
  now: fc.constantFrom(50, 100, 105, 200),
  work: fc.constantFrom(5, 100, 5000),
});

describe('compileCaveats', () => {
  it('agrees with the one-pass reference on every verdict, message and grant, for many requests per compile', () => {
    fc.assert(
      fc.property(
        fc.array(caveatArb, { maxLength: 6 }),
        fc.array(reqArb, { minLength: 1, maxLength: 5 }),
        (caveats, reqs) => {
          const compiled = compileCaveats(caveats, 'sim');
          for (const r of reqs) {
            const req: CaveatRequirements = {
              service: r.service,
              now: r.now,
              ...(r.capability === undefined ? {} : { capability: r.capability }),
              constraints: {
                batch_max_work: (v) =>
                  Number.isSafeInteger(Number(v)) ? (r.work <= Number(v) ? true : 'too much') : 'unreadable',
              },
            };
            const want = outcome(() => reference(caveats, req));
            expect(outcome(() => compiled.check(req))).toEqual(want);
            expect(outcome(() => checkCaveats(caveats, req))).toEqual(want);
            // assert throws where check throws, and passes where check passes.
            const asserted = outcome(() => {
              compiled.assert(req);
              return reference(caveats, req);
            });
            expect(asserted).toEqual(want);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hands out copies: changing a returned grant does not change the next one', () => {
    const compiled = compileCaveats(['services=sim:1', 'sim_capabilities=pair,batch'], 'sim');
    const first = compiled.check({ service: 'sim', now: 0 });
    first.capabilities?.push('everything');
    expect(compiled.check({ service: 'sim', now: 0 })).toEqual({
      tier: 1,
      capabilities: ['pair', 'batch'],
      validUntil: null,
    });
    expect(compiled.granted).toEqual({ tier: 1, capabilities: ['pair', 'batch'], validUntil: null });
  });
});
