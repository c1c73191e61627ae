// `npm run package`: zips the built extension for each browser into artifacts/ (or $ARTIFACTS_DIR)
// (l402-autopilot-chrome-<version>.zip, l402-autopilot-firefox-<version>.zip) with web-ext's packer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const out = process.env.ARTIFACTS_DIR ?? 'artifacts';
mkdirSync(out, { recursive: true });
for (const browser of ['chrome', 'firefox']) {
  const dir = join('dist', browser);
  if (!existsSync(join(dir, 'manifest.json'))) throw new Error(`${dir} is not built: run npm run build first`);
  const name = `l402-autopilot-${browser}-${version}.zip`;
  execFileSync(
    'npx',
    ['web-ext', 'build', '--source-dir', dir, '--artifacts-dir', out, '--filename', name, '--overwrite-dest'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  console.log(join(out, name));
}
