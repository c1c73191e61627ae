import * as mac from 'macaroon';
import { describe, expect, it } from 'vitest';
import { bytesToBase64 } from './encoding.ts';
import { encodeIdentifier } from './identifier.ts';
import { decodeMacaroon, mintMacaroon, verifyMacaroon } from './macaroon.ts';
import { exportMacaroonV2 } from './macaroon-binary.ts';

const params = {
  rootKey: new Uint8Array(32).fill(1),
  paymentHash: new Uint8Array(32).fill(2),
  tokenId: new Uint8Array(32).fill(3),
};

describe('exportMacaroonV2', () => {
  it('is byte-identical to the library exporter where the library still works (≤ 2 caveats)', () => {
    for (const location of ['', 'similarity']) {
      for (const caveats of [
        [],
        ['services=similarity:0'],
        ['services=similarity:0', 'similarity_capabilities=pair'],
      ]) {
        const m = mac.newMacaroon({
          identifier: encodeIdentifier(params),
          location,
          rootKey: params.rootKey,
          version: 2,
        });
        for (const c of caveats) m.addFirstPartyCaveat(c);
        expect(bytesToBase64(exportMacaroonV2(m))).toBe(bytesToBase64(m.exportBinary()));
      }
    }
  });

  it('mints many caveats (where the library exporter runs out of memory) that decode and verify', () => {
    const caveats = [
      'services=similarity:0',
      'similarity_capabilities=batch,pair',
      'similarity_valid_until=4000000000',
      'batch_max_work=9',
      'x=y',
      'long='.padEnd(300, 'z'),
    ];
    const m = mintMacaroon({ ...params, location: 'similarity', caveats });
    expect(decodeMacaroon(m).caveats).toEqual(caveats);
    const granted = verifyMacaroon(m, params.rootKey, { service: 'similarity', capability: 'batch', now: 1 });
    expect(granted.capabilities).toEqual(['batch', 'pair']);
    expect(() => verifyMacaroon(m, new Uint8Array(32), { service: 'similarity', now: 1 })).toThrow(/signature/);
  });
});
