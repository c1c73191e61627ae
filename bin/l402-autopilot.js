#!/usr/bin/env node
// The `l402-autopilot` command. Node >= 22.18 runs the TypeScript sources directly (type stripping), as `npm start` does.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`l402-autopilot needs Node 22.18 or newer (this is ${process.version})\n`);
  process.exit(1);
}
await import('../src/agent/main.ts');
