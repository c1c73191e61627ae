// Bundles the demo's browser modules at request time with rolldown (already installed with vite), so `npm start`
// on a fresh clone serves them with no build step. Each bundle is built once per process and cached.
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'rolldown';

const TOOLKIT_ENTRY = fileURLToPath(new URL('../../src/toolkit/index.ts', import.meta.url));

// `macaroon` reaches for Node's `util` only when there is no `window` (workers): hand it the web globals instead.
const utilShim: Plugin = {
  name: 'demo-util-shim',
  resolveId: (id) => (id === 'util' ? '\0util-shim' : null),
  load: (id) =>
    id === '\0util-shim'
      ? 'export const TextEncoder = globalThis.TextEncoder; export const TextDecoder = globalThis.TextDecoder; export default { TextEncoder, TextDecoder };'
      : null,
};

// The page script imports the toolkit by source path (so it typechecks); in the browser it loads /demo/toolkit.js.
const toolkitExternal: Plugin = {
  name: 'demo-toolkit-external',
  resolveId: (id, importer) => {
    if (!importer) return null;
    const resolved = fileURLToPath(new URL(id, `file://${importer}`));
    return resolved === TOOLKIT_ENTRY ? { id: '/demo/toolkit.js', external: 'absolute' as const } : null;
  },
};

async function bundle(entry: string, plugins: Plugin[]): Promise<string> {
  const { rolldown } = await import('rolldown');
  const b = await rolldown({ input: entry, platform: 'browser', plugins, logLevel: 'warn' });
  try {
    const { output } = await b.generate({ format: 'esm', minify: true });
    const chunk = output[0];
    if (chunk?.type !== 'chunk') throw new Error(`no chunk built for ${entry}`);
    return chunk.code;
  } finally {
    await b.close();
  }
}

const cache = new Map<string, Promise<string>>();

function cached(name: string, build: () => Promise<string>): Promise<string> {
  let p = cache.get(name);
  if (!p) {
    p = build();
    cache.set(name, p);
    // A failed build is not cached: the next request tries again.
    p.catch(() => cache.delete(name));
  }
  return p;
}

/** The toolkit as one browser ES module. */
export function toolkitModule(): Promise<string> {
  return cached('toolkit', () => bundle(TOOLKIT_ENTRY, [utilShim]));
}

/** The demo page's own script, importing /demo/toolkit.js. */
export function pageModule(): Promise<string> {
  return cached('page', () => bundle(fileURLToPath(new URL('./page-script.ts', import.meta.url)), [toolkitExternal]));
}
