// Regtest Lightning network for tests and the demo: one btcd miner and three lnd nodes.
//
//   bob ──1M──▶ alice        bob pays (NWC wallet), alice is the server's node,
//    └──2M──▶ carol ──2M──▶ alice   carol is a routing hop (funds her own channel).
//
// Everything listens on 127.0.0.1 on free ports; each run gets its own data dir with logs
// and PID files, so a crashed run can be cleaned up (reapStaleRuns / down.ts).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LndRest, lndConfigFromDir } from '../../server/lightning/lnd-rest.ts';
import { LndAdmin } from './lnd-admin.ts';
import { errorMessage } from '../../src/util/error-message.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN_DIR = join(REPO_ROOT, '.cache/regtest-bin');
export const RUNS_DIR = join(REPO_ROOT, '.cache/regtest-run');

export type NodeName = 'alice' | 'bob' | 'carol';
export const NODE_NAMES: readonly NodeName[] = ['alice', 'bob', 'carol'];

export interface LndNodeSummary {
  name: NodeName;
  pubkey: string;
  lnddir: string;
  restUrl: string;
  grpcHost: string;
  p2pHost: string;
  tlsCertPath: string;
  macaroonPath: string;
  logPath: string;
}

export interface NetworkSummary {
  runDir: string;
  btcd: { rpcHost: string; p2pHost: string; rpcUser: string; rpcPass: string; certPath: string; logPath: string };
  nodes: Record<NodeName, LndNodeSummary>;
  /** Channel ids (lnd's uint64 as string), for routing restrictions in tests. */
  channels: { bobAlice: string; bobCarol: string; carolAlice: string };
  /** Wall time from start to "bob can pay alice directly and via carol". */
  readyMs: number;
}

/** What `regtest:up` and the test global setup publish (JSON-serialisable). */
export interface RegtestSummary extends NetworkSummary {
  relayUrl: string;
  /** NWC connection to bob's wallet, without a budget. */
  nwcUri: string;
  walletPubkey: string;
  /** Test runs only: loopback endpoint for failure injection (see test/integration/global-setup.ts). */
  controlUrl?: string;
}

export interface StartNetworkOptions {
  /** Defaults to .cache/regtest-run/<timestamp>. */
  runDir?: string;
  log?: (msg: string) => void;
}

const RPC_USER = 'regtest';
const RPC_PASS = 'regtest';
const INITIAL_BLOCKS = 440;
const CHANNEL = { bobAlice: 1_000_000, bobCarol: 2_000_000, carolAlice: 2_000_000, carolFunds: 3_000_000 };

// --- child processes: tracked so none outlives this process ---

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

function pidFile(runDir: string, name: string): string {
  return join(runDir, 'pids', `${name}.pid`);
}

function launch(runDir: string, name: string, bin: string, args: string[]): ChildProcess {
  installExitHook();
  const out = openSync(join(runDir, `${name}.out`), 'a');
  const child = spawn(join(BIN_DIR, bin), args, { stdio: ['ignore', out, out] });
  if (child.pid === undefined) throw new Error(`could not start ${bin} (${join(BIN_DIR, bin)})`);
  live.add(child);
  writeFileSync(pidFile(runDir, name), `${child.pid}\n`);
  child.once('exit', () => {
    live.delete(child);
    rmSync(pidFile(runDir, name), { force: true });
  });
  return child;
}

async function terminate(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

// --- small helpers ---

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await sleep(everyMs);
  }
}

async function freePorts(n: number): Promise<number[]> {
  // Hold all sockets open until every port is known, so no port is handed out twice.
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const s = createServer();
      return new Promise<ReturnType<typeof createServer>>((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res(s));
      });
    }),
  );
  const ports = servers.map((s) => {
    const a = s.address();
    if (a === null || typeof a === 'string') throw new Error('no port');
    return a.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills the node processes recorded in a run dir (only if they still run our binaries). */
export function killRunProcesses(runDir: string, signal: NodeJS.Signals = 'SIGTERM'): number[] {
  const dir = join(runDir, 'pids');
  if (!existsSync(dir)) return [];
  const killed: number[] = [];
  for (const f of readdirSync(dir)) {
    if (f === 'owner.pid') continue;
    const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {}
    // Guard against a recycled pid: it must be one of our btcd/lnd binaries.
    if (pid > 0 && /\/(btcd|lnd)\0/.test(cmd) && cmd.includes(runDir)) {
      try {
        process.kill(pid, signal);
        killed.push(pid);
      } catch {}
    }
    rmSync(join(dir, f), { force: true });
  }
  return killed;
}

function ownerAlive(runDir: string): boolean {
  const owner = join(runDir, 'pids', 'owner.pid');
  return existsSync(owner) && alive(Number(readFileSync(owner, 'utf8').trim()));
}

/**
 * Kills leftovers of earlier runs whose owning process has died (crash, SIGKILL) and deletes
 * all but the newest `keepRuns` finished run dirs (their logs are for post-mortems).
 */
export function reapStaleRuns(keepRuns = 5): number[] {
  if (!existsSync(RUNS_DIR)) return [];
  const killed: number[] = [];
  const finished: string[] = [];
  for (const d of readdirSync(RUNS_DIR).sort()) {
    const runDir = join(RUNS_DIR, d);
    if (ownerAlive(runDir)) continue;
    killed.push(...killRunProcesses(runDir, 'SIGKILL'));
    rmSync(join(runDir, 'pids', 'owner.pid'), { force: true });
    finished.push(runDir);
  }
  for (const old of finished.slice(0, Math.max(0, finished.length - keepRuns))) {
    rmSync(old, { recursive: true, force: true });
  }
  return killed;
}

// --- btcd JSON-RPC over TLS ---

function btcdRpc(
  host: string,
  cert: Buffer,
  method: string,
  params: unknown[] = [],
  timeoutMs = 30_000,
): Promise<unknown> {
  const [hostname, port] = host.split(':');
  const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params });
  return new Promise((resolvePromise, reject) => {
    const req = request(
      {
        hostname,
        port,
        method: 'POST',
        path: '/',
        ca: cert,
        auth: `${RPC_USER}:${RPC_PASS}`,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          data += c;
        });
        res.on('end', () => {
          try {
            const o = JSON.parse(data) as { result: unknown; error: { message: string } | null };
            if (o.error) reject(new Error(`btcd ${method}: ${o.error.message}`));
            else resolvePromise(o.result);
          } catch {
            reject(new Error(`btcd ${method}: HTTP ${res.statusCode}: ${data.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// --- the network ---

interface NodePorts {
  p2p: number;
  grpc: number;
  rest: number;
}

export class RegtestNetwork {
  readonly runDir: string;
  summary!: NetworkSummary;
  private readonly log: (msg: string) => void;
  private readonly procs = new Map<string, ChildProcess>();
  private readonly rests = new Map<NodeName, LndAdmin>();
  private btcdPorts = { rpc: 0, p2p: 0 };
  private readonly nodePorts = new Map<NodeName, NodePorts>();
  private miningAddr: string | null = null;
  private btcdCert: Buffer | null = null;

  constructor(runDir: string, log: (msg: string) => void) {
    this.runDir = runDir;
    this.log = log;
  }

  rest(name: NodeName): LndAdmin {
    const r = this.rests.get(name);
    if (!r) throw new Error(`${name} has no REST client yet`);
    return r;
  }

  private get btcdDir(): string {
    return join(this.runDir, 'btcd');
  }
  private lnddir(name: NodeName): string {
    return join(this.runDir, name);
  }
  private ports(name: NodeName): NodePorts {
    const p = this.nodePorts.get(name);
    if (!p) throw new Error(`no ports for ${name}`);
    return p;
  }

  async allocatePorts(): Promise<void> {
    const p = await freePorts(2 + 3 * NODE_NAMES.length);
    const take = () => {
      const v = p.shift();
      if (v === undefined) throw new Error('port pool exhausted');
      return v;
    };
    this.btcdPorts = { rpc: take(), p2p: take() };
    for (const n of NODE_NAMES) this.nodePorts.set(n, { p2p: take(), grpc: take(), rest: take() });
  }

  async startBtcd(): Promise<void> {
    const dir = this.btcdDir;
    mkdirSync(dir, { recursive: true });
    const args = [
      '--regtest',
      `--rpcuser=${RPC_USER}`,
      `--rpcpass=${RPC_PASS}`,
      `--rpclisten=127.0.0.1:${this.btcdPorts.rpc}`,
      `--listen=127.0.0.1:${this.btcdPorts.p2p}`,
      `--rpccert=${join(dir, 'rpc.cert')}`,
      `--rpckey=${join(dir, 'rpc.key')}`,
      `--datadir=${join(dir, 'data')}`,
      `--logdir=${join(dir, 'logs')}`,
      '--txindex',
      '--rejectnonstd',
      '--nobanning',
      '--nostalldetect',
      '--trickleinterval=100ms',
      '--rpcmaxwebsockets=50',
      ...(this.miningAddr ? [`--miningaddr=${this.miningAddr}`] : []),
    ];
    this.procs.set('btcd', launch(this.runDir, 'btcd', 'btcd', args));
    const certPath = join(dir, 'rpc.cert');
    await waitFor('btcd RPC', 30_000, async () => {
      if (!existsSync(certPath)) return undefined;
      this.btcdCert = readFileSync(certPath);
      await btcdRpc(`127.0.0.1:${this.btcdPorts.rpc}`, this.btcdCert, 'getblockcount');
      return true;
    });
  }

  async stopBtcd(): Promise<void> {
    const p = this.procs.get('btcd');
    if (p) await terminate(p);
    this.procs.delete('btcd');
  }

  async mine(blocks: number): Promise<string[]> {
    if (!this.btcdCert) throw new Error('btcd not started');
    return (await btcdRpc(`127.0.0.1:${this.btcdPorts.rpc}`, this.btcdCert, 'generate', [blocks], 120_000)) as string[];
  }

  async blockCount(): Promise<number> {
    if (!this.btcdCert) throw new Error('btcd not started');
    return (await btcdRpc(`127.0.0.1:${this.btcdPorts.rpc}`, this.btcdCert, 'getblockcount')) as number;
  }

  private lndArgs(name: NodeName): string[] {
    const p = this.ports(name);
    return [
      `--lnddir=${this.lnddir(name)}`,
      `--alias=${name}`,
      '--bitcoin.regtest',
      '--bitcoin.node=btcd',
      `--btcd.rpchost=127.0.0.1:${this.btcdPorts.rpc}`,
      `--btcd.rpcuser=${RPC_USER}`,
      `--btcd.rpcpass=${RPC_PASS}`,
      `--btcd.rpccert=${join(this.btcdDir, 'rpc.cert')}`,
      '--noseedbackup',
      '--nobootstrap',
      `--listen=127.0.0.1:${p.p2p}`,
      `--rpclisten=127.0.0.1:${p.grpc}`,
      `--restlisten=127.0.0.1:${p.rest}`,
      '--bitcoin.defaultchanconfs=1',
      '--bitcoin.defaultremotedelay=4',
      '--accept-keysend',
      '--maxpendingchannels=10',
      '--trickledelay=50',
      '--gossip.sub-batch-delay=5ms',
      '--db.batch-commit-interval=10ms',
      '--historicalsyncinterval=1s',
    ];
  }

  /**
   * Starts one lnd and waits until its RPC answers. lnd only reaches SERVER_ACTIVE once the
   * chain tip is recent, so on a fresh chain wait for RPC_ACTIVE and mine first.
   */
  async startLnd(name: NodeName, until: 'RPC_ACTIVE' | 'SERVER_ACTIVE' = 'SERVER_ACTIVE'): Promise<LndRest> {
    mkdirSync(this.lnddir(name), { recursive: true });
    const child = launch(this.runDir, name, 'lnd', this.lndArgs(name));
    this.procs.set(name, child);
    return this.waitState(name, until);
  }

  async waitState(name: NodeName, until: 'RPC_ACTIVE' | 'SERVER_ACTIVE', timeoutMs = 60_000): Promise<LndRest> {
    const url = `https://127.0.0.1:${this.ports(name).rest}`;
    const macaroon = join(this.lnddir(name), 'data/chain/bitcoin/regtest/admin.macaroon');
    await waitFor(`${name} lnd ${until}`, timeoutMs, async () => {
      if (!this.isRunning(name)) throw new Error(`${name} lnd exited; see ${join(this.runDir, `${name}.out`)}`);
      if (!existsSync(macaroon)) return undefined;
      const r = new LndRest({ ...lndConfigFromDir(url, this.lnddir(name)), timeoutMs: 5_000 });
      const state = await r.state();
      return state === 'SERVER_ACTIVE' || (until === 'RPC_ACTIVE' && state === 'RPC_ACTIVE') ? true : undefined;
    });
    const rest = new LndAdmin(lndConfigFromDir(url, this.lnddir(name)));
    this.rests.set(name, rest);
    return rest;
  }

  async stopLnd(name: NodeName): Promise<void> {
    const p = this.procs.get(name);
    if (p) await terminate(p);
    this.procs.delete(name);
  }

  isRunning(name: NodeName | 'btcd'): boolean {
    const p = this.procs.get(name);
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  async waitSynced(names: readonly NodeName[], height: number, timeoutMs = 60_000): Promise<void> {
    await Promise.all(
      names.map((n) =>
        waitFor(`${n} synced to ${height}`, timeoutMs, async () => {
          const i = await this.rest(n).getInfo();
          return i.syncedToChain && i.blockHeight >= height ? true : undefined;
        }),
      ),
    );
  }

  async waitActiveChannels(name: NodeName, count: number, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${name} to have ${count} active channels`, timeoutMs, async () =>
      (await this.rest(name).listChannels(true)).length >= count ? true : undefined,
    );
  }

  /** Pays a fresh alice invoice from bob through the given first channel until it works. */
  private async probe(what: string, outgoingChanId: string, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    await waitFor(
      what,
      timeoutMs,
      async () => {
        const inv = await this.rest('alice').addInvoice({ valueMsat: 1_000_000, memo: `probe ${what}` });
        const p = await this.rest('bob').payInvoice({
          paymentRequest: inv.paymentRequest,
          feeLimitSat: 100,
          timeoutSeconds: 10,
          outgoingChanIds: [outgoingChanId],
        });
        if (p.status !== 'SUCCEEDED') throw new Error(`probe payment ${p.failureReason ?? 'failed'}`);
        return true;
      },
      250,
    );
    return Date.now() - t0;
  }

  private async chanId(from: NodeName, to: NodeName): Promise<string> {
    const toKey = this.summary.nodes[to].pubkey;
    const c = (await this.rest(from).listChannels()).find((ch) => ch.remotePubkey === toKey);
    if (!c) throw new Error(`no ${from}→${to} channel`);
    return c.chanId;
  }

  private nodeSummary(name: NodeName, pubkey: string): LndNodeSummary {
    const p = this.ports(name);
    const dir = this.lnddir(name);
    return {
      name,
      pubkey,
      lnddir: dir,
      restUrl: `https://127.0.0.1:${p.rest}`,
      grpcHost: `127.0.0.1:${p.grpc}`,
      p2pHost: `127.0.0.1:${p.p2p}`,
      tlsCertPath: join(dir, 'tls.cert'),
      macaroonPath: join(dir, 'data/chain/bitcoin/regtest/admin.macaroon'),
      logPath: join(dir, 'logs/bitcoin/regtest/lnd.log'),
    };
  }

  /** Full bring-up: processes, funding, channels, and real probe payments. */
  async start(): Promise<NetworkSummary> {
    const t0 = Date.now();
    const step = (m: string) => this.log(`[regtest +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
    mkdirSync(join(this.runDir, 'pids'), { recursive: true });
    writeFileSync(pidFile(this.runDir, 'owner'), `${process.pid}\n`);
    await this.allocatePorts();

    await this.startBtcd();
    step('btcd up');
    // btcd only mines to --miningaddr: take an address from bob's wallet and restart btcd with it. Bob is
    // stopped first and every node starts after: an lnd that loses btcd in the middle of its own start-up
    // may never reconnect (seen once under load: bob stuck before SERVER_ACTIVE).
    await this.startLnd('bob', 'RPC_ACTIVE');
    this.miningAddr = await this.rest('bob').newAddress();
    await this.stopLnd('bob');
    await this.stopBtcd();
    await this.startBtcd();
    await Promise.all(NODE_NAMES.map((n) => this.startLnd(n, 'RPC_ACTIVE')));
    step('lnd alice, bob, carol RPC up');
    // btcd activates segwit on regtest through BIP9 (3 windows of 144 blocks → active from
    // height 432), and lnd only sends segwit transactions: mine past that.
    await this.mine(INITIAL_BLOCKS);
    await Promise.all(NODE_NAMES.map((n) => this.waitState(n, 'SERVER_ACTIVE')));
    const infos = await Promise.all(NODE_NAMES.map((n) => this.rest(n).getInfo()));
    const pubkey = (n: NodeName) => infos[NODE_NAMES.indexOf(n)]?.identityPubkey ?? '';
    const nodes = {
      alice: this.nodeSummary('alice', pubkey('alice')),
      bob: this.nodeSummary('bob', pubkey('bob')),
      carol: this.nodeSummary('carol', pubkey('carol')),
    };
    this.summary = {
      runDir: this.runDir,
      btcd: {
        rpcHost: `127.0.0.1:${this.btcdPorts.rpc}`,
        p2pHost: `127.0.0.1:${this.btcdPorts.p2p}`,
        rpcUser: RPC_USER,
        rpcPass: RPC_PASS,
        certPath: join(this.btcdDir, 'rpc.cert'),
        logPath: join(this.btcdDir, 'logs/regtest/btcd.log'),
      },
      nodes,
      channels: { bobAlice: '', bobCarol: '', carolAlice: '' },
      readyMs: 0,
    };
    // One block after the wallets finished their initial sync: before it, btcwallet's coin
    // selection still sees no spendable outputs ("insufficient funds") despite the balance.
    await this.mine(1);
    await this.waitSynced(NODE_NAMES, INITIAL_BLOCKS + 1);
    await waitFor('bob funds', 30_000, async () =>
      (await this.rest('bob').walletBalance()).confirmedSat > 0 ? true : undefined,
    );
    step(`mined ${INITIAL_BLOCKS} blocks, bob funded (${JSON.stringify(await this.rest('bob').walletBalance())})`);

    const bob = this.rest('bob');
    const carol = this.rest('carol');
    await Promise.all([
      bob.connectPeer(nodes.alice.pubkey, nodes.alice.p2pHost),
      bob.connectPeer(nodes.carol.pubkey, nodes.carol.p2pHost),
      carol.connectPeer(nodes.alice.pubkey, nodes.alice.p2pHost),
    ]);
    const carolAddr = await carol.newAddress();
    // Right after the rescan lnd may still see the coinbases as immature: retry briefly.
    await waitFor('bob to send carol her funds', 30_000, () => bob.sendCoins(carolAddr, CHANNEL.carolFunds), 250);
    await bob.openChannel({ nodePubkeyHex: nodes.alice.pubkey, localFundingSat: CHANNEL.bobAlice });
    await bob.openChannel({ nodePubkeyHex: nodes.carol.pubkey, localFundingSat: CHANNEL.bobCarol });
    await this.mine(1);
    await this.waitSynced(['carol'], INITIAL_BLOCKS + 2);
    await waitFor('carol funds', 30_000, async () =>
      (await carol.walletBalance()).confirmedSat >= CHANNEL.carolFunds ? true : undefined,
    );
    await carol.openChannel({ nodePubkeyHex: nodes.alice.pubkey, localFundingSat: CHANNEL.carolAlice });
    step('channels opened');
    // 6 more blocks: every funding tx gets ≥ 6 confirmations, so channels are announced.
    await this.mine(6);
    await this.waitSynced(NODE_NAMES, INITIAL_BLOCKS + 8);
    await Promise.all([
      this.waitActiveChannels('bob', 2),
      this.waitActiveChannels('carol', 2),
      this.waitActiveChannels('alice', 2),
    ]);
    this.summary.channels = {
      bobAlice: await this.chanId('bob', 'alice'),
      bobCarol: await this.chanId('bob', 'carol'),
      carolAlice: await this.chanId('carol', 'alice'),
    };
    step('channels active');
    await this.probe('bob→alice direct', this.summary.channels.bobAlice, 30_000);
    await this.probe('bob→carol→alice', this.summary.channels.bobCarol, 60_000);
    this.summary.readyMs = Date.now() - t0;
    step('ready: bob pays alice directly and via carol');
    return this.summary;
  }

  /** Stops alice (or another node) for failure tests; the rest keeps running. */
  async stopNode(name: NodeName): Promise<void> {
    await this.stopLnd(name);
    this.log(`[regtest] ${name} stopped`);
  }

  /** Restarts a stopped node on the same ports and waits until its channels are active again. */
  async startNode(name: NodeName): Promise<void> {
    if (this.isRunning(name)) return;
    await this.startLnd(name);
    await this.waitSynced([name], await this.blockCount());
    await this.waitActiveChannels(name, 2); // every node has two channels in this topology
    this.log(`[regtest] ${name} running again`);
  }

  async stop(): Promise<void> {
    await Promise.all(NODE_NAMES.map((n) => this.stopLnd(n)));
    await this.stopBtcd();
    rmSync(pidFile(this.runDir, 'owner'), { force: true });
  }
}

/** Runs build.sh (a no-op on a warm cache); throws with its output on failure. */
export function ensureBinaries(log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  const r = spawnSync('bash', [join(REPO_ROOT, 'scripts/regtest/build.sh')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`.trim();
  if (r.status !== 0) throw new Error(`scripts/regtest/build.sh failed (exit ${r.status}):\n${out}`);
  log(out);
}

/** Starts a network; on any failure everything started so far is stopped and the error rethrown. */
export async function startNetwork(opts: StartNetworkOptions = {}): Promise<RegtestNetwork> {
  for (const bin of ['btcd', 'lnd']) {
    if (!existsSync(join(BIN_DIR, bin))) {
      throw new Error(`${join(BIN_DIR, bin)} missing: run \`bash scripts/regtest/build.sh\` first`);
    }
  }
  const reaped = reapStaleRuns();
  const log = opts.log ?? ((m: string) => console.error(m));
  if (reaped.length) log(`[regtest] killed ${reaped.length} leftover node process(es) of crashed runs`);
  const runDir = opts.runDir ?? join(RUNS_DIR, new Date().toISOString().replace(/[:.]/g, '-'));
  const net = new RegtestNetwork(runDir, log);
  try {
    await net.start();
  } catch (e) {
    await net.stop().catch(() => undefined);
    const msg = errorMessage(e);
    throw new Error(`regtest network failed to start (logs in ${runDir}): ${msg}`, { cause: e });
  }
  return net;
}
