import { describe, expect, it } from 'vitest';
import { decodeMacaroon, mintMacaroon, verifyMacaroon } from '../../src/l402/index.ts';
import { mintToken } from './mint-token.ts';

const params = {
  rootKey: new Uint8Array(32).fill(1),
  paymentHash: new Uint8Array(32).fill(2),
  tokenId: new Uint8Array(32).fill(3),
};

describe('mintToken (local V2 serialisation)', () => {
  it('is byte-identical to the core/library output where the library still works', () => {
    for (const location of ['', 'similarity']) {
      const caveats = ['services=similarity:0', 'similarity_capabilities=pair'];
      expect(mintToken({ ...params, location, caveats })).toBe(mintMacaroon({ ...params, location, caveats }));
    }
  });

  it('mints many caveats that the core decodes and verifies', () => {
    const caveats = ['services=similarity:0', 'similarity_capabilities=batch,pair', 'similarity_valid_until=4000000000', 'batch_max_work=9', 'x=y', 'long='.padEnd(300, 'z')];
    const m = mintToken({ ...params, location: 'similarity', caveats });
    expect(decodeMacaroon(m).caveats).toEqual(caveats);
    expect(verifyMacaroon(m, params.rootKey, { service: 'similarity', capability: 'batch', now: 1 }).capabilities).toEqual(['batch', 'pair']);
    expect(() => verifyMacaroon(m, new Uint8Array(32), { service: 'similarity', now: 1 })).toThrow(/signature/);
  });
});
