import * as mac from 'macaroon';
import { describe, expect, it } from 'vitest';
import goVectors from '../../test/vectors/go-macaroon.json' with { type: 'json' };
import {
  addCaveats,
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  type CaveatRequirements,
  caveat,
  checkCaveats,
  decodeIdentifier,
  decodeMacaroon,
  encodeIdentifier,
  formatCaveat,
  hexToBytes,
  IDENTIFIER_LENGTH,
  macaroonSignature,
  mintMacaroon,
  parseCaveat,
  parseServices,
  paymentHashOf,
  verifyCredential,
  verifyMacaroon,
} from './index.ts';
import { codeOf } from '../../test/support/l402-fixtures.ts';

const utf8 = new TextEncoder();
const bytes = (hex: string) => hexToBytes(hex)!;
const ROOT = bytes('2a'.repeat(32));
const OTHER_ROOT = bytes('2b'.repeat(32));
const PREIMAGE = '5e'.repeat(32);
const PAYMENT_HASH = paymentHashOf(PREIMAGE);
const TOKEN_ID = bytes('a7'.repeat(32));
const NOW = 1_700_000_000;

function mint(caveats: string[] = [caveat.services([{ name: 'similarity', tier: 0 }])], rootKey = ROOT): string {
  return mintMacaroon({ rootKey, paymentHash: bytes(PAYMENT_HASH), tokenId: TOKEN_ID, location: 'test', caveats });
}

describe('go-macaroon compatibility (test/vectors/go-macaroon.json)', () => {
  it.each(goVectors.vectors.map((v) => [v.identifier, v] as const))('%s', (_, v) => {
    const m = mac.newMacaroon({
      identifier: utf8.encode(v.identifier),
      location: v.location,
      rootKey: utf8.encode(v.rootKey),
      version: 2,
    });
    for (const step of v.steps) {
      if (step.caveat !== null) m.addFirstPartyCaveat(step.caveat);
      const exported = bytesToBase64(m.exportBinary());
      expect(macaroonSignature(exported)).toBe(step.signature);
    }
    // The exported binary verifies with the same root key and carries the caveats in order.
    const imported = mac.importMacaroon(m.exportBinary());
    expect(() => imported.verify(utf8.encode(v.rootKey), () => null)).not.toThrow();
    expect(() => imported.verify(utf8.encode(`${v.rootKey}!`), () => null)).toThrow();
  });
});

describe('identifier', () => {
  const paymentHash = bytes('11'.repeat(32));
  it('encodes version 0 ‖ payment hash ‖ token id in 66 bytes and decodes back', () => {
    const id = encodeIdentifier({ paymentHash, tokenId: TOKEN_ID });
    expect(id.length).toBe(IDENTIFIER_LENGTH);
    expect(IDENTIFIER_LENGTH).toBe(66);
    expect(bytesToHex(id)).toBe(`0000${'11'.repeat(32)}${'a7'.repeat(32)}`);
    expect(decodeIdentifier(id)).toEqual({ version: 0, paymentHash, tokenId: TOKEN_ID });
  });

  it.each([
    ['65 bytes', new Uint8Array(65)],
    ['67 bytes', new Uint8Array(67)],
    ['empty', new Uint8Array(0)],
    ['version 1', Uint8Array.from([0, 1, ...new Uint8Array(64)])],
    ['version 256', Uint8Array.from([1, 0, ...new Uint8Array(64)])],
  ])('decodeIdentifier refuses %s', (_, id) => {
    expect(codeOf(() => decodeIdentifier(id))).toBe('bad_macaroon');
  });

  it.each([
    ['short payment hash', { paymentHash: new Uint8Array(31), tokenId: TOKEN_ID }],
    ['long token id', { paymentHash, tokenId: new Uint8Array(33) }],
  ])('encodeIdentifier refuses %s', (_, id) => {
    expect(codeOf(() => encodeIdentifier(id))).toBe('bad_macaroon');
  });
});

describe('mint / decode / verify', () => {
  it('round-trips identifier, location and caveats; the signature verifies', () => {
    const caveats = [
      caveat.services([
        { name: 'similarity', tier: 1 },
        { name: 'other', tier: 0 },
      ]),
      caveat.capabilities('similarity', ['pair', 'batch']),
      caveat.validUntil('similarity', NOW + 60),
    ];
    const m = mint(caveats);
    const d = decodeMacaroon(m);
    expect(d.paymentHash).toBe(PAYMENT_HASH);
    expect(d.tokenId).toBe('a7'.repeat(32));
    expect(d.location).toBe('test');
    expect(d.caveats).toEqual([
      'services=similarity:1,other:0',
      'similarity_capabilities=pair,batch',
      `similarity_valid_until=${NOW + 60}`,
    ]);
    expect(verifyMacaroon(m, ROOT, { service: 'similarity', capability: 'batch', now: NOW })).toEqual({
      tier: 1,
      capabilities: ['pair', 'batch'],
      validUntil: NOW + 60,
    });
  });

  it('is standard padded base64 of a V2 binary macaroon', () => {
    const m = mint();
    expect(m).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(base64ToBytes(m)![0]).toBe(2);
  });

  it('addCaveats narrows and still verifies; the input is untouched', () => {
    const m = mint();
    const narrowed = addCaveats(m, [caveat.validUntil('similarity', NOW + 5)]);
    expect(narrowed).not.toBe(m);
    expect(decodeMacaroon(m).caveats).toHaveLength(1);
    expect(decodeMacaroon(narrowed).caveats).toHaveLength(2);
    expect(verifyMacaroon(narrowed, ROOT, { service: 'similarity', now: NOW }).validUntil).toBe(NOW + 5);
    expect(codeOf(() => verifyMacaroon(narrowed, ROOT, { service: 'similarity', now: NOW + 5 }))).toBe('caveat_failed');
  });

  it('a tampered caveat (one byte changed, re-encoded) is bad_macaroon', () => {
    const m = mint([caveat.services([{ name: 'similarity', tier: 0 }])]);
    const raw = base64ToBytes(m)!;
    const text = new TextDecoder('latin1').decode(raw);
    const at = text.indexOf('similarity:0') + 'similarity:'.length;
    expect(raw[at]).toBe('0'.charCodeAt(0));
    const tampered = raw.slice();
    tampered[at] = '9'.charCodeAt(0);
    const t = bytesToBase64(tampered);
    expect(decodeMacaroon(t).caveats).toEqual(['services=similarity:9']);
    expect(codeOf(() => verifyMacaroon(t, ROOT, { service: 'similarity', now: NOW }))).toBe('bad_macaroon');
  });

  it('a wrong root key is bad_macaroon', () => {
    expect(codeOf(() => verifyMacaroon(mint(), OTHER_ROOT, { service: 'similarity', now: NOW }))).toBe('bad_macaroon');
  });

  it('a third-party caveat is rejected', () => {
    const m = mac.newMacaroon({
      identifier: encodeIdentifier({ paymentHash: bytes(PAYMENT_HASH), tokenId: TOKEN_ID }),
      location: 'test',
      rootKey: ROOT,
      version: 2,
    });
    m.addFirstPartyCaveat('services=similarity:0');
    // Not in src/types/macaroon.d.ts (the core never adds third-party caveats), but the package has it.
    (m as unknown as { addThirdPartyCaveat(key: Uint8Array, id: string, location: string): void }).addThirdPartyCaveat(
      bytes('33'.repeat(32)),
      'third-party-id',
      'https://auth.example',
    );
    const b64 = bytesToBase64(m.exportBinary());
    expect(codeOf(() => decodeMacaroon(b64))).toBe('bad_macaroon');
    expect(codeOf(() => verifyMacaroon(b64, ROOT, { service: 'similarity', now: NOW }))).toBe('bad_macaroon');
  });

  it.each([
    ['not base64', 'not base64!'],
    ['empty', ''],
    ['truncated', mint().slice(0, 40)],
    ['trailing garbage', bytesToBase64(Uint8Array.from([...base64ToBytes(mint())!, 0, 1, 2]))],
    ['random bytes', bytesToBase64(bytes('02ff'.repeat(20)))],
    [
      'a non-L402 identifier',
      bytesToBase64(mac.newMacaroon({ identifier: 'abc', rootKey: ROOT, version: 2 }).exportBinary()),
    ],
  ])('decodeMacaroon refuses %s with bad_macaroon', (_, m) => {
    expect(codeOf(() => decodeMacaroon(m))).toBe('bad_macaroon');
  });
});

describe('caveat builders and parsing', () => {
  it.each([
    [caveat.services([{ name: 'similarity', tier: 0 }]), 'services=similarity:0'],
    [
      caveat.services([
        { name: 'a', tier: 2 },
        { name: 'b', tier: 0 },
      ]),
      'services=a:2,b:0',
    ],
    [caveat.capabilities('similarity', ['pair', 'batch']), 'similarity_capabilities=pair,batch'],
    [caveat.validUntil('similarity', 1700000000.9), 'similarity_valid_until=1700000000'],
    [caveat.constraint('batch', 'max_work', 4096), 'batch_max_work=4096'],
  ])('%s', (got, want) => {
    expect(got).toBe(want);
  });

  it.each([
    ['service name with a comma', () => caveat.services([{ name: 'a,b', tier: 0 }])],
    ['service name with a colon', () => caveat.services([{ name: 'a:1', tier: 0 }])],
    ['negative tier', () => caveat.services([{ name: 'a', tier: -1 }])],
    ['capability with a comma', () => caveat.capabilities('s', ['a,b'])],
    ['non-finite expiry', () => caveat.validUntil('s', Number.NaN)],
    ['CR/LF in a value', () => formatCaveat({ key: 'k', value: 'v\r\nx' })],
    ['bad key', () => formatCaveat({ key: 'a b', value: 'v' })],
  ])('builders refuse %s', (_, fn) => {
    expect(codeOf(fn)).toBe('bad_macaroon');
  });

  it('parseCaveat / parseServices', () => {
    expect(parseCaveat('a_valid_until = 12 ')).toEqual({ key: 'a_valid_until', value: '12' });
    expect(parseCaveat('k=v=w')).toEqual({ key: 'k', value: 'v=w' });
    expect(codeOf(() => parseCaveat('novalue'))).toBe('bad_macaroon');
    expect(codeOf(() => parseCaveat('=v'))).toBe('bad_macaroon');
    expect(parseServices('a:1, b')).toEqual([
      { name: 'a', tier: 1 },
      { name: 'b', tier: 0 },
    ]);
    expect(codeOf(() => parseServices('a:x'))).toBe('caveat_failed');
    expect(codeOf(() => parseServices('a:1:2'))).toBe('caveat_failed');
  });
});

describe('checkCaveats', () => {
  const req: CaveatRequirements = { service: 'similarity', now: NOW };
  const svc = 'services=similarity:0';
  const maxWork = (limit: number) => ({
    batch_max_work: (v: string) => (Number(v) >= limit ? (true as const) : `needs ${limit}, token allows ${v}`),
  });

  it.each([
    ['service present', [svc], req, { tier: 0, capabilities: null, validUntil: null }],
    [
      'service among several, tier read',
      ['services=other:0,similarity:2'],
      req,
      { tier: 2, capabilities: null, validUntil: null },
    ],
    [
      'capability granted',
      [svc, 'similarity_capabilities=pair,batch'],
      { ...req, capability: 'pair' },
      { tier: 0, capabilities: ['pair', 'batch'], validUntil: null },
    ],
    [
      'capabilities of another service ignored',
      [svc, 'other_capabilities=x'],
      { ...req, capability: 'pair' },
      { tier: 0, capabilities: null, validUntil: null },
    ],
    [
      'not yet expired',
      [svc, `similarity_valid_until=${NOW + 1}`],
      req,
      { tier: 0, capabilities: null, validUntil: NOW + 1 },
    ],
    [
      'expiry of another service ignored',
      [svc, `other_valid_until=${NOW - 1}`],
      req,
      { tier: 0, capabilities: null, validUntil: null },
    ],
    ['unknown caveat ignored', [svc, 'colour=blue'], req, { tier: 0, capabilities: null, validUntil: null }],
    [
      'constraint satisfied',
      [svc, 'batch_max_work=5000'],
      { ...req, constraints: maxWork(4096) },
      { tier: 0, capabilities: null, validUntil: null },
    ],
    [
      'constraint without a checker ignored',
      [svc, 'batch_max_work=1'],
      req,
      { tier: 0, capabilities: null, validUntil: null },
    ],
    // Repeated keys only narrow.
    [
      'repeated capabilities intersect',
      [svc, 'similarity_capabilities=pair,batch', 'similarity_capabilities=batch,admin'],
      req,
      { tier: 0, capabilities: ['batch'], validUntil: null },
    ],
    [
      'repeated valid_until keeps the earliest',
      [svc, `similarity_valid_until=${NOW + 10}`, `similarity_valid_until=${NOW + 99}`],
      req,
      { tier: 0, capabilities: null, validUntil: NOW + 10 },
    ],
    [
      'later services caveat cannot raise the tier',
      [svc, 'services=similarity:5'],
      req,
      { tier: 0, capabilities: null, validUntil: null },
    ],
    [
      'later services caveat may lower the tier',
      ['services=similarity:3', 'services=similarity:1'],
      req,
      { tier: 1, capabilities: null, validUntil: null },
    ],
  ])('grants: %s', (_, caveats, r, want) => {
    expect(checkCaveats(caveats, r)).toEqual(want);
  });

  it.each([
    ['no services caveat', ['similarity_capabilities=pair'], req],
    ['other service only', ['services=other:0'], req],
    ['services narrowed away by a later caveat', [svc, 'services=other:0'], req],
    ['services garbage', ['services=similarity:x'], req],
    ['capability not granted', [svc, 'similarity_capabilities=pair'], { ...req, capability: 'batch' }],
    [
      'later capabilities caveat cannot widen',
      [svc, 'similarity_capabilities=pair', 'similarity_capabilities=pair,batch'],
      { ...req, capability: 'batch' },
    ],
    ['expired (now == until)', [svc, `similarity_valid_until=${NOW}`], req],
    ['expired', [svc, `similarity_valid_until=${NOW - 1}`], req],
    [
      'later valid_until cannot widen',
      [svc, `similarity_valid_until=${NOW - 1}`, `similarity_valid_until=${NOW + 999}`],
      req,
    ],
    ['non-numeric expiry', [svc, 'similarity_valid_until=soon'], req],
    ['constraint violated', [svc, 'batch_max_work=100'], { ...req, constraints: maxWork(4096) }],
    [
      'repeated constraint: the narrower one fails',
      [svc, 'batch_max_work=9000', 'batch_max_work=100'],
      { ...req, constraints: maxWork(4096) },
    ],
    ['unreadable caveat', [svc, 'time < 2015-01-01'], req],
  ])('fails: %s → caveat_failed', (_, caveats, r) => {
    expect(codeOf(() => checkCaveats(caveats, r))).toBe('caveat_failed');
  });

  it('verifyMacaroon applies the caveats with the injected clock', () => {
    const m = mint([svc, caveat.validUntil('similarity', NOW + 100)]);
    expect(verifyMacaroon(m, ROOT, { ...req, now: NOW + 99 }).validUntil).toBe(NOW + 100);
    expect(codeOf(() => verifyMacaroon(m, ROOT, { ...req, now: NOW + 100 }))).toBe('caveat_failed');
  });
});

describe('verifyCredential', () => {
  const good = mint([caveat.services([{ name: 'similarity', tier: 1 }]), caveat.validUntil('similarity', NOW + 60)]);
  const keys = (k: Uint8Array | null) => {
    const seen: string[] = [];
    return {
      seen,
      rootKeyFor: (id: Uint8Array) => {
        seen.push(bytesToHex(id));
        return k;
      },
    };
  };

  it('accepts a paid, signed, unexpired token and reports what it grants', () => {
    const k = keys(ROOT);
    const v = verifyCredential(
      { macaroons: [good], preimage: PREIMAGE.toUpperCase() },
      { rootKeyFor: k.rootKeyFor, service: 'similarity', now: NOW },
    );
    expect(v).toEqual({
      tier: 1,
      capabilities: null,
      validUntil: NOW + 60,
      paymentHash: PAYMENT_HASH,
      tokenId: 'a7'.repeat(32),
      authorization: `L402 ${good}:${PREIMAGE}`,
    });
    expect(k.seen).toEqual(['a7'.repeat(32)]);
  });

  it.each([
    ['wrong preimage', [good], '00'.repeat(32), ROOT, 'bad_preimage'],
    [
      'wrong preimage AND bad signature: preimage reported first',
      [mint(undefined, OTHER_ROOT)],
      '00'.repeat(32),
      ROOT,
      'bad_preimage',
    ],
    ['malformed preimage', [good], 'xyz', ROOT, 'bad_preimage'],
    ['revoked (rootKeyFor → null)', [good], PREIMAGE, null, 'bad_macaroon'],
    ['wrong root key', [good], PREIMAGE, OTHER_ROOT, 'bad_macaroon'],
    ['no macaroon', [], PREIMAGE, ROOT, 'bad_macaroon'],
    ['undecodable macaroon', ['AAAA'], PREIMAGE, ROOT, 'bad_macaroon'],
  ])('%s → %s', (_, macaroons, preimage, key, code) => {
    const k = keys(key);
    expect(
      codeOf(() =>
        verifyCredential({ macaroons, preimage }, { rootKeyFor: k.rootKeyFor, service: 'similarity', now: NOW }),
      ),
    ).toBe(code);
    // The root-key store is not consulted before the preimage matches.
    if (code === 'bad_preimage') expect(k.seen).toEqual([]);
  });

  it('caveats come last: a good token for another service or past expiry is caveat_failed', () => {
    const k = keys(ROOT);
    const cred = { macaroons: [good], preimage: PREIMAGE };
    expect(codeOf(() => verifyCredential(cred, { rootKeyFor: k.rootKeyFor, service: 'other', now: NOW }))).toBe(
      'caveat_failed',
    );
    expect(
      codeOf(() => verifyCredential(cred, { rootKeyFor: k.rootKeyFor, service: 'similarity', now: NOW + 60 })),
    ).toBe('caveat_failed');
  });

  it('a holder-added caveat that tries to widen the expiry still fails after the original expiry', () => {
    const widened = addCaveats(good, [caveat.validUntil('similarity', NOW + 10_000)]);
    const cred = { macaroons: [widened], preimage: PREIMAGE };
    expect(verifyCredential(cred, { rootKeyFor: () => ROOT, service: 'similarity', now: NOW }).validUntil).toBe(
      NOW + 60,
    );
    expect(codeOf(() => verifyCredential(cred, { rootKeyFor: () => ROOT, service: 'similarity', now: NOW + 61 }))).toBe(
      'caveat_failed',
    );
  });
});
