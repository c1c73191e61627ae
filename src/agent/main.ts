// Entry point of the `l402-autopilot` bin (bin/l402-autopilot.js imports it).
import { readFileSync } from 'node:fs';

// stdout carries only our output (the JSON or the MCP protocol): libraries that chat on the console go to stderr.
console.log = console.error;
console.info = console.error;
const { runCli } = await import('./cli.ts');

const code = await runCli(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  tty: process.stdout.isTTY === true,
  env: process.env,
  stdin: () => readFileSync(0),
});
// Let stdout drain before leaving (a pipe may still hold the body).
process.stdout.write('', () => process.exit(code));
