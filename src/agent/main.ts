// Entry point of the `l402-autopilot` bin (bin/l402-autopilot.js imports it).
import { readFileSync } from 'node:fs';
import { runCli } from './cli.ts';

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  tty: process.stdout.isTTY === true,
  env: process.env,
  stdin: () => readFileSync(0),
});
// Let stdout drain before leaving (a pipe may still hold the body).
process.stdout.write('', () => process.exit(code));
