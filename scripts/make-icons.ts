// Draws the toolbar icons (a lightning bolt on an amber disc) as PNGs with no image library:
// run once with `node scripts/make-icons.ts`; the PNGs are committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

// Bolt polygon in a 0..1 box.
const bolt: Array<[number, number]> = [
  [0.58, 0.1],
  [0.28, 0.55],
  [0.48, 0.55],
  [0.4, 0.9],
  [0.72, 0.42],
  [0.52, 0.42],
];
function inside(x: number, y: number): boolean {
  let hit = false;
  for (let i = 0, j = bolt.length - 1; i < bolt.length; j = i++) {
    const [xi, yi] = bolt[i]!;
    const [xj, yj] = bolt[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

for (const size of [16, 48, 128]) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const o = y * (size * 4 + 1) + 1 + x * 4;
      const u = (x + 0.5) / size;
      const v = (y + 0.5) / size;
      const disc = (u - 0.5) ** 2 + (v - 0.5) ** 2 <= 0.25;
      const px = inside(u, v) ? [255, 255, 255, 255] : disc ? [247, 147, 26, 255] : [0, 0, 0, 0];
      raw.set(px, o);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
  writeFileSync(`public/icons/icon-${size}.png`, png);
}
