// Mints L402 macaroons for the gate. WORKAROUND (reported to the core owner): `macaroon` 3.0.4's
// exportBinary() grows its buffer by doubling on EVERY append (ByteBuffer._grow compares against an
// undefined `_capacity`), so a macaroon with 4+ caveats throws "Array buffer allocation failed" and
// even 3 caveats allocate hundreds of MB. The core's mintMacaroon goes through that path. Here the
// library still builds and signs the macaroon (go-macaroon key derivation); only the V2 binary
// serialisation is done locally, byte-identical to the library's (pinned in mint-token.test.ts).
// Verification stays in the core (importMacaroon reads with ByteReader, which is fine).
import * as mac from 'macaroon';
import { bytesToBase64, encodeIdentifier, type MintParams } from '../../src/l402/index.ts';

const FIELD_EOS = 0;
const FIELD_LOCATION = 1;
const FIELD_IDENTIFIER = 2;
const FIELD_SIGNATURE = 6;
const utf8 = new TextEncoder();

function varint(x: number, out: number[]): void {
  let v = x;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
}

function field(type: number, data: Uint8Array, out: number[]): void {
  out.push(type);
  varint(data.length, out);
  for (const b of data) out.push(b);
}

/** libmacaroons V2 binary of a macaroon with first-party caveats only. */
export function exportBinaryV2(m: mac.Macaroon): Uint8Array {
  const out: number[] = [2];
  if (m.location) field(FIELD_LOCATION, utf8.encode(m.location), out);
  field(FIELD_IDENTIFIER, m.identifier, out);
  out.push(FIELD_EOS);
  for (const c of m.caveats) {
    if (c.vid && c.vid.length > 0) throw new Error('third-party caveats are not minted here');
    if (c.location) field(FIELD_LOCATION, utf8.encode(c.location), out);
    field(FIELD_IDENTIFIER, c.identifier, out);
    out.push(FIELD_EOS);
  }
  out.push(FIELD_EOS);
  field(FIELD_SIGNATURE, m.signature, out);
  return Uint8Array.from(out);
}

/** Same contract as the core's `mintMacaroon`, without the library's exporter. */
export function mintToken(p: MintParams): string {
  const m = mac.newMacaroon({
    identifier: encodeIdentifier({ paymentHash: p.paymentHash, tokenId: p.tokenId }),
    location: p.location ?? '',
    rootKey: p.rootKey,
    version: 2,
  });
  for (const c of p.caveats ?? []) m.addFirstPartyCaveat(c);
  return bytesToBase64(exportBinaryV2(m));
}
