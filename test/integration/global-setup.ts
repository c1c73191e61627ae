// Vitest global setup for the `regtest` project (integration + e2e): one real regtest network,
// relay and NWC wallet service for the whole run, torn down at the end. If anything cannot
// start this THROWS, so the run fails with the reason instead of skipping tests.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Nip47SingleMethod } from '@getalby/sdk/nwc';
import type { TestProject } from 'vitest/node';
import {
  ensureBinaries,
  NODE_NAMES,
  type NodeName,
  type RegtestNetwork,
  type RegtestSummary,
  startNetwork,
} from '../../scripts/regtest/network.ts';
import { lndLightningNode } from '../../server/nostr/lnd-lightning-node.ts';
import {
  type BudgetRenewal,
  type NwcWalletServiceHandle,
  startNwcWalletService,
  waitForNwcService,
} from '../../server/nostr/nwc-wallet-service.ts';
import { type RelayHandle, startRelay } from '../../server/nostr/relay.ts';
import './regtest-context.ts';
import { errorMessage } from '../../src/util/error-message.ts';

interface State {
  net: RegtestNetwork | null;
  relay: RelayHandle | null;
  relayPort: number;
  services: NwcWalletServiceHandle[];
  controlServer: Server | null;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let data = '';
  for await (const chunk of req) data += String(chunk);
  if (data.trim() === '') return {};
  const v: unknown = JSON.parse(data);
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

/** Loopback control endpoint: failure injection for tests running in worker processes. */
function startControl(s: State, net: RegtestNetwork): Promise<Server> {
  const routes: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    '/relay/stop': async () => {
      await s.relay?.close();
      return { ok: true };
    },
    '/relay/start': async () => {
      // Same port and store: clients and the wallet service reconnect to the same URL.
      s.relay = await startRelay({ port: s.relayPort, ...(s.relay ? { repository: s.relay.repository } : {}) });
      // Answer only once every wallet service has resubscribed, so tests don't race it.
      await Promise.all(s.services.map((svc) => waitForNwcService(svc.nwcUri, 30_000)));
      return { ok: true };
    },
    '/nwc/connections': async (body) => {
      if (!s.relay) throw new Error('relay is stopped');
      const svc = await startNwcWalletService({
        relayUrl: s.relay.url,
        node: lndLightningNode(net.rest('bob')),
        ...(typeof body.budgetMsat === 'number' ? { budgetMsat: body.budgetMsat } : {}),
        ...(typeof body.budgetRenewal === 'string' ? { budgetRenewal: body.budgetRenewal as BudgetRenewal } : {}),
        ...(Array.isArray(body.methods) ? { methods: body.methods as Nip47SingleMethod[] } : {}),
      });
      s.services.push(svc);
      return { nwcUri: svc.nwcUri, walletPubkey: svc.walletPubkey };
    },
    '/mine': async (body) => ({ blocks: await net.mine(typeof body.blocks === 'number' ? body.blocks : 1) }),
  };
  for (const name of NODE_NAMES) {
    routes[`/${name}/stop`] = async () => {
      await net.stopNode(name as NodeName);
      return { ok: true };
    };
    routes[`/${name}/start`] = async () => {
      await net.startNode(name as NodeName);
      return { ok: true };
    };
  }
  const server = createServer((req, res) => {
    const route = req.method === 'POST' ? routes[req.url ?? ''] : undefined;
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!route) {
      reply(404, { error: `unknown control route ${req.method} ${req.url}` });
      return;
    }
    readJson(req)
      .then(route)
      .then(
        (out) => reply(200, out),
        (e: unknown) => reply(500, { error: errorMessage(e) }),
      );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function teardown(s: State): Promise<void> {
  for (const svc of s.services) await svc.close().catch(() => undefined);
  await new Promise<void>((r) => (s.controlServer ? s.controlServer.close(() => r()) : r()));
  await s.relay?.close().catch(() => undefined);
  await s.net?.stop();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const s: State = { net: null, relay: null, relayPort: 0, services: [], controlServer: null };
  try {
    ensureBinaries(log);
    s.net = await startNetwork({ log });
    s.relay = await startRelay();
    s.relayPort = s.relay.port;
    const main = await startNwcWalletService({ relayUrl: s.relay.url, node: lndLightningNode(s.net.rest('bob')) });
    s.services.push(main);
    s.controlServer = await startControl(s, s.net);
    const summary: RegtestSummary = {
      ...s.net.summary,
      relayUrl: s.relay.url,
      nwcUri: main.nwcUri,
      walletPubkey: main.walletPubkey,
      controlUrl: `http://127.0.0.1:${(s.controlServer.address() as AddressInfo).port}`,
    };
    project.provide('regtest', summary);
    log(
      `[regtest] network + relay + NWC ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (logs: ${summary.runDir})`,
    );
  } catch (e) {
    await teardown(s).catch(() => undefined);
    throw new Error(`regtest global setup failed: ${errorMessage(e)}`, { cause: e });
  }
  return () => teardown(s);
}
