// `npm run regtest:up`: builds the binaries if needed, starts btcd + alice/bob/carol, a local
// Nostr relay and an NWC wallet service in front of bob, writes .cache/regtest/summary.json,
// prints it, and keeps running until SIGINT/SIGTERM (or `npm run regtest:down`).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lndLightningNode } from '../../server/nostr/lnd-lightning-node.ts';
import { startNwcWalletService } from '../../server/nostr/nwc-wallet-service.ts';
import { startRelay } from '../../server/nostr/relay.ts';
import { ensureBinaries, REPO_ROOT, type RegtestSummary, startNetwork } from './network.ts';

const STATE_DIR = join(REPO_ROOT, '.cache/regtest');
const UP_PID_FILE = join(STATE_DIR, 'up.pid');
const SUMMARY_FILE = join(STATE_DIR, 'summary.json');

function alreadyRunning(): number | null {
  if (!existsSync(UP_PID_FILE)) return null;
  const pid = Number(readFileSync(UP_PID_FILE, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

// stdout carries only the summary JSON; the NWC SDK chats on console.info/log.
console.info = console.error;
console.log = console.error;

async function main(): Promise<void> {
  const running = alreadyRunning();
  if (running) throw new Error(`regtest:up already running (pid ${running}); run \`npm run regtest:down\` first`);
  const t0 = Date.now();
  ensureBinaries();
  const tNet = Date.now();
  const net = await startNetwork();
  const relay = await startRelay();
  const nwc = await startNwcWalletService({ relayUrl: relay.url, node: lndLightningNode(net.rest('bob')) }).catch(
    async (e: unknown) => {
      await relay.close();
      await net.stop();
      throw e;
    },
  );
  const summary: RegtestSummary = {
    ...net.summary,
    relayUrl: relay.url,
    nwcUri: nwc.nwcUri,
    walletPubkey: nwc.walletPubkey,
  };
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(SUMMARY_FILE, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(UP_PID_FILE, `${process.pid}\n`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  console.error(
    `\nregtest ready in ${((Date.now() - tNet) / 1000).toFixed(1)} s (total ${((Date.now() - t0) / 1000).toFixed(1)} s incl. build check).` +
      `\nNWC URI (bob's wallet, regtest money): ${nwc.nwcUri}\nsummary: ${SUMMARY_FILE}\nstop with Ctrl-C or \`npm run regtest:down\``,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping regtest network…`);
    await nwc.close().catch(() => undefined);
    await relay.close().catch(() => undefined);
    await net.stop().catch((e: unknown) => console.error(e));
    rmSync(UP_PID_FILE, { force: true });
    rmSync(SUMMARY_FILE, { force: true });
    console.error('stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
