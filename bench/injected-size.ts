// Size of what the extension injects into EVERY page (docs/design.md#quality-bars): the MAIN-world script and the
// ISOLATED bridge, raw and gzipped, read from the Chrome build's manifest.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface InjectedSize {
  file: string;
  world: 'MAIN' | 'ISOLATED';
  bytes: number;
  gzip_bytes: number;
}

/** null when the extension is not built (run `npm run build` first). */
export function measureInjectedSize(dist = 'dist/chrome'): InjectedSize[] | null {
  const manifestPath = join(dist, 'manifest.json');
  if (!existsSync(manifestPath)) return null;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    content_scripts?: Array<{ js?: string[]; world?: string }>;
  };
  return (manifest.content_scripts ?? []).flatMap((cs) =>
    (cs.js ?? []).map((file) => {
      const data = readFileSync(join(dist, file));
      return {
        file,
        world: cs.world === 'MAIN' ? 'MAIN' : 'ISOLATED',
        bytes: data.length,
        gzip_bytes: gzipSync(data).length,
      } as const;
    }),
  );
}
