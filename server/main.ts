// `npm start`: the priced similarity server. With the dev backend (default) it also starts an
// in-process Nostr relay and an NWC wallet service in front of the DEV-MONEY wallet, so the
// extension can pay this server with nothing else installed. BACKEND=lnd uses a real node and starts
// no dev wallet. SIGINT/SIGTERM close everything gracefully.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.ts';
import { DevMainnetRefusedError } from './lightning/dev-invoice.ts';
import { startNwcWalletService } from './nostr/nwc-wallet-service.ts';
import { startRelay } from './nostr/relay.ts';
import { batchPriceMsat } from './pricing.ts';
import { type RunningServer, startServer } from './start.ts';
import { errorMessage } from '../src/util/error-message.ts';

type Closer = () => Promise<void>;

// stdout carries only the JSON request logs; libraries that chat on the console (the NWC SDK's
// "checking connection to relay", console.info) go to stderr with the banner.
console.log = console.error;
console.info = console.error;

/** The dev NWC connection's secrets, created once per data dir (mode 0600). */
function devNwcKeys(dataDir: string): { walletSecretHex: string; clientSecretHex: string } {
  const file = join(dataDir, 'dev-nwc-keys.json');
  if (existsSync(file))
    return JSON.parse(readFileSync(file, 'utf8')) as { walletSecretHex: string; clientSecretHex: string };
  const keys = { walletSecretHex: randomBytes(32).toString('hex'), clientSecretHex: randomBytes(32).toString('hex') };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

async function main(): Promise<void> {
  const env = process.env;
  const closers: Closer[] = [];
  let server: RunningServer;
  try {
    server = await startServer({ env: { PORT: '8402', ...env } });
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DevMainnetRefusedError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  closers.push(() => server.close());
  const c = server.config;
  const say = (s = ''): void => {
    process.stderr.write(`${s}\n`);
  };

  let nwcUri: string | null = null;
  if (server.devWallet && env.DEV_NWC !== 'off') {
    // A fixed relay port and persisted keys keep the NWC URI the same across restarts, so the
    // extension stays connected to the dev wallet after `npm start` is run again.
    const relay = await startRelay({ port: Number(env.DEV_RELAY_PORT ?? 8403), host: c.host });
    closers.unshift(() => relay.close());
    const keys = devNwcKeys(c.dataDir);
    const nwc = await startNwcWalletService({ relayUrl: relay.url, node: server.devWallet, keys });
    closers.unshift(() => nwc.close());
    nwcUri = nwc.nwcUri;
  }

  // Banner on stderr so stdout stays pure JSON request logs.
  say(
    `\nL402 similarity server listening on ${server.url}  (backend: ${c.backend}, network: ${server.network ?? 'unknown'})`,
  );
  say(`  pair token:  ${c.pairPriceMsat} msat   POST ${server.url}/v1/similarity  (or GET ?a=…&b=…, same token)`);
  say(
    `  batch token: ${c.batchBasePriceMsat} msat + ${c.batchPricePerKiloWorkMsat} msat per 1000 × (vectors × dims), e.g. 100×1536 → ${batchPriceMsat(153_600, c)} msat`,
  );
  say(
    `  offers (AUTH_SCHEMES): ${c.authSchemes}  — l402 = reusable token, payment = Payment charge, x402 = x402 Lightning (PAYMENT-REQUIRED)`,
  );
  say(
    `  tokens valid ${c.tokenLifetimeSeconds} s · prices: ${server.url}/v1/pricing · discovery: ${server.url}/.well-known/l402.json`,
  );
  if (server.devWallet) {
    const bal = (await server.devWallet.getBalance()).balanceMsat / 1000;
    say('\n  *** DEV MONEY *** regtest invoices signed by a throwaway dev key; nothing here is real bitcoin.');
    say(`  Dev wallet balance: ${bal.toLocaleString('en-US')} sat (data in ${c.dataDir})`);
    if (nwcUri) {
      say('  Paste this NWC URI into the extension (DEV MONEY wallet; kept across restarts):');
      say(`    ${nwcUri}`);
    }
  }
  say('\n  Try it:');
  say(
    `    curl -i -X POST ${server.url}/v1/similarity -H 'content-type: application/json' -d '{"a":[1,2,3],"b":[2,4,6.5]}'`,
  );
  say('    # → 402 with WWW-Authenticate: L402 macaroon="…", invoice="…"; pay the invoice, then:');
  say(
    `    curl -X POST ${server.url}/v1/similarity -H 'authorization: L402 <macaroon>:<preimage>' -H 'content-type: application/json' -d '{"a":[1,2,3],"b":[2,4,6.5]}'`,
  );
  say(
    `    curl -H 'authorization: L402 <macaroon>:<preimage>' '${server.url}/v1/similarity?a=1,2,3&b=2,4,6.5'   # GET form, same token`,
  );
  say(
    `    Browser (with the extension): ${server.url}/v1/similarity?a=1,2,3&b=2,4,6.5   · demo page: ${server.url}/demo`,
  );
  say(
    `    curl -X POST ${server.url}/v1/similarity/batch -H 'content-type: application/json' -d '{"query":[1,0],"vectors":[[1,0],[0,1],[1,1]],"top_k":2}'`,
  );
  say('\n  Ctrl-C to stop.\n');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: shutting down…`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    (async () => {
      for (const close of closers) await close().catch((e: unknown) => say(`close failed: ${String(e)}`));
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`server failed to start: ${errorMessage(e)}\n`);
  process.exit(1);
});
