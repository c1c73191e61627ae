// What users install: the zips `npm run package` makes (README "Install"). Each is unpacked into a fresh folder
// and loaded in its browser, which must start the extension and answer its own UI — a zip missing a file (a
// chunk, an icon, the bridge) fails here, not at a user's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchExtension } from './fixtures/extension.ts';
import { launchFirefox } from './fixtures/firefox.ts';
import { uiClient } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Unpacks `zipPath` into `dir`; returns the file names (folders excluded). */
async function unzip(zipPath: string, dir: string): Promise<string[]> {
  const zip = await JSZip.loadAsync(readFileSync(zipPath));
  const names: string[] = [];
  for (const entry of Object.values(zip.files)) {
    if (entry.dir) continue;
    const target = resolve(dir, entry.name);
    if (!target.startsWith(`${resolve(dir)}/`)) throw new Error(`zip entry escapes its folder: ${entry.name}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, await entry.async('nodebuffer'));
    names.push(entry.name);
  }
  return names;
}

describe('the packaged zips (npm run package) install and run', () => {
  let work: string;
  const unpacked = (browser: string) => join(work, browser);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'l402-package-'));
    execFileSync(process.execPath, [join(ROOT, 'scripts/package.ts')], {
      cwd: ROOT,
      env: { ...process.env, ARTIFACTS_DIR: join(work, 'artifacts') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (const browser of ['chrome', 'firefox']) {
      const files = await unzip(join(work, 'artifacts', `l402-autopilot-${browser}-${version}.zip`), unpacked(browser));
      expect(files).toContain('manifest.json');
    }
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the Chrome zip holds the built extension, and Chromium runs it', async () => {
    const manifest = JSON.parse(readFileSync(join(unpacked('chrome'), 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ manifest_version: 3, version });
    const ext = await launchExtension({ dist: unpacked('chrome') });
    try {
      const { ui } = await uiClient(ext);
      expect(await ui('getSettings', {})).toMatchObject({ onboarded: false, wallet: { kind: 'none' } });
    } finally {
      await ext.close();
    }
  });

  it('the Firefox zip holds the Firefox build, and Firefox ESR runs it', async () => {
    const manifest = JSON.parse(readFileSync(join(unpacked('firefox'), 'manifest.json'), 'utf8'));
    expect(manifest.background).toHaveProperty('scripts');
    expect(manifest.browser_specific_settings?.gecko?.id).toBe('l402-autopilot@example.org');
    const ff = await launchFirefox({ dist: unpacked('firefox') });
    try {
      expect(await ff.ui('getSettings', {})).toMatchObject({ onboarded: false, wallet: { kind: 'none' } });
    } finally {
      await ff.close();
    }
  });
});
