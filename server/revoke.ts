// Revokes tokens by id: `DATA_DIR=.data/server node server/revoke.ts <token id hex> [...]` (through
// npm exec so node is v24). A running server sharing the data dir picks the change up within a second.
import { loadConfig } from './config.ts';
import { openTokenAuthority } from './tokens/token-files.ts';

const ids = process.argv.slice(2);
if (ids.length === 0) {
  process.stderr.write('usage: node server/revoke.ts <token id (64 hex)> [...]\n  the token id is token_id in the 402 body\n');
  process.exit(2);
}
const config = loadConfig({ env: process.env });
const tokens = openTokenAuthority(config.dataDir);
for (const id of ids) {
  await tokens.revoke(id);
  process.stdout.write(`revoked ${id.toLowerCase()} in ${config.dataDir}\n`);
}
