// Revokes tokens by id: `DATA_DIR=.data/server node server/revoke.ts <token id hex> [...]` (through
// npm exec so node is v24). A running server sharing the data dir picks the change up within a second.
import { loadConfig } from './config.ts';
import { openPostgresSharedStore } from './tokens/shared-store.ts';
import { createTokenAuthority } from './tokens/token-authority.ts';
import { loadOrCreateMasterSecret, openTokenAuthority } from './tokens/token-files.ts';

const ids = process.argv.slice(2);
if (ids.length === 0) {
  process.stderr.write(
    'usage: node server/revoke.ts <token id (64 hex)> [...]\n  the token id is token_id in the 402 body\n',
  );
  process.exit(2);
}
const config = loadConfig({ env: process.env });
// With SHARED_STORE_URL the revocation goes to the database, so every instance sees it.
const store = config.sharedStoreUrl ? await openPostgresSharedStore(config.sharedStoreUrl) : null;
const tokens = store
  ? createTokenAuthority({ masterSecret: loadOrCreateMasterSecret(config.dataDir), revocations: store.revocations })
  : openTokenAuthority(config.dataDir);
for (const id of ids) {
  await tokens.revoke(id);
  process.stdout.write(`revoked ${id.toLowerCase()} in ${store ? 'the shared store' : config.dataDir}\n`);
}
await store?.close();
