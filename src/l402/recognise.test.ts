import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../../test/vectors/challenges.json' with { type: 'json' };
import { type ResponseParts, recognise402 } from './index.ts';

const fill = (s: string) => s.replaceAll('{{MAC}}', vectors.macaroon).replaceAll('{{INV}}', vectors.invoice);
const fillDeep = <T>(v: T): T => JSON.parse(fill(JSON.stringify(v))) as T;

describe('recognise402 (test/vectors/challenges.json → recognise)', () => {
  it.each(vectors.recognise.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const got = recognise402(fillDeep(v.parts) as ResponseParts);
    expect(got).toMatchObject(v.expect);
    if (got.kind === 'l402') {
      expect(got.challenge).toEqual({ scheme: 'L402', macaroon: vectors.macaroon, invoice: vectors.invoice });
    }
    if (got.kind === 'malformed') expect(got.reason.length).toBeGreaterThan(0);
  });

  it('exposes the Payment challenge params', () => {
    const got = recognise402({ wwwAuthenticate: 'Payment id="abc", method="lightning", request="e30"' });
    expect(got).toEqual({
      kind: 'payment',
      method: 'lightning',
      params: { id: 'abc', method: 'lightning', request: 'e30' },
    });
  });

  it('never throws, whatever the parts', () => {
    fc.assert(
      fc.property(
        fc.option(fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))),
        fc.option(fc.string()),
        fc.anything(),
        (wwwAuthenticate, paymentRequired, jsonBody) => {
          const got = recognise402({ wwwAuthenticate, paymentRequired, jsonBody });
          expect(['l402', 'payment', 'x402', 'malformed', 'none']).toContain(got.kind);
        },
      ),
      { numRuns: 300 },
    );
  });
});
