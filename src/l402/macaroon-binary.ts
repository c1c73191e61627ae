// libmacaroons V2 binary serialisation of a macaroon with first-party caveats.
// Why not the library's exportBinary(): in `macaroon` 3.0.4 its ByteBuffer._grow compares against an
// undefined `_capacity`, so the buffer doubles on EVERY append — 4+ caveats throw "Array buffer
// allocation failed". The library still builds and signs (go-macaroon key derivation); only the byte
// layout is written here, byte-identical to the library's (pinned in macaroon.test.ts).
import type { Macaroon } from 'macaroon';
import { L402Error } from './errors.ts';

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

/** V2 binary of `m` (first-party caveats only; third-party ones are refused). */
export function exportMacaroonV2(m: Macaroon): Uint8Array {
  const out: number[] = [2];
  if (m.location) field(FIELD_LOCATION, utf8.encode(m.location), out);
  field(FIELD_IDENTIFIER, m.identifier, out);
  out.push(FIELD_EOS);
  for (const c of m.caveats) {
    if (c.vid && c.vid.length > 0) throw new L402Error('bad_macaroon', 'third-party caveats are not supported');
    if (c.location) field(FIELD_LOCATION, utf8.encode(c.location), out);
    field(FIELD_IDENTIFIER, c.identifier, out);
    out.push(FIELD_EOS);
  }
  out.push(FIELD_EOS);
  field(FIELD_SIGNATURE, m.signature, out);
  return Uint8Array.from(out);
}
