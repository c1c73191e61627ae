import { crx, type ManifestV3Export } from '@crxjs/vite-plugin';
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import manifest from './manifest.json' with { type: 'json' };
import { noInnerHtml } from './scripts/build/no-inner-html.ts';

// `vite build` → dist/chrome, `vite build --mode firefox` → dist/firefox.
// The bridge and the MAIN-world script are standalone files so they run at
// document_start before page scripts (docs/design.md#browser-testing).
export default defineConfig(({ mode }) => {
  const browser = mode === 'firefox' ? 'firefox' : 'chrome';
  const ui = (name: string) => `src/extension/ui/${name}/index.html`;
  return {
    plugins: [
      preact(),
      noInnerHtml(),
      crx({
        manifest: manifest as ManifestV3Export,
        browser,
        contentScripts: {
          standaloneFiles: ['src/extension/content/bridge.ts', 'src/extension/main-world/index.ts'],
        },
      }),
    ],
    build: {
      outDir: `dist/${browser}`,
      emptyOutDir: true,
      target: 'es2022',
      rollupOptions: { input: { prompt: ui('prompt'), onboarding: ui('onboarding') } },
    },
    // See src/extension/shims/node-util.ts: `macaroon` needs TextEncoder from `util` in a service worker.
    resolve: { alias: { util: fileURLToPath(new URL('./src/extension/shims/node-util.ts', import.meta.url)) } },
    server: { cors: { origin: /chrome-extension:\/\// } },
  };
});
