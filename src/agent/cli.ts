// `l402-autopilot`: the command line over the agent engine. Human output on a terminal, JSON when piped (or
// --json); the exit code says what happened (see EXIT in errors.ts and README "For agents").
import { readFileSync, rmSync } from 'node:fs';
import { listPayments, toCsv, toJson } from '../extension/background/ledger.ts';
import { checkNwcUri, SettingsError } from '../extension/background/settings.ts';
import { listTokens, revokeToken } from '../extension/background/tokens.ts';
import { Agent, AGENT_CONFIG_KEY, type AgentConfig, loadAgentConfig } from './agent.ts';
import { type BodySource, type Command, parseCommand, USAGE, UsageError } from './args.ts';
import { AgentError, EXIT } from './errors.ts';
import { dataDir, openHome, writeSecret } from './home.ts';
import { serveMcp } from './mcp.ts';
import { installProcessLocks, processLocks, sqliteStorage } from './sqlite-storage.ts';
import { errorMessage } from '../util/error-message.ts';

const VERSION = '0.1.0';

interface Io {
  stdout: (s: string | Uint8Array) => void;
  stderr: (s: string) => void;
  /** stdout is a terminal: human output. */
  tty: boolean;
  env: NodeJS.ProcessEnv;
  stdin: () => Uint8Array;
}

const msatOf = (sats: number | null) => (sats === null ? null : sats * 1000);
const satsOf = (msat: number | null) => (msat === null ? 'none' : `${msat / 1000} sats`);

function bodyOf(b: BodySource | undefined, io: Io): Uint8Array<ArrayBuffer> | string | undefined {
  if (!b) return undefined;
  if (b.kind === 'text') return b.text;
  try {
    return new Uint8Array(b.path === '-' ? io.stdin() : readFileSync(b.path));
  } catch (e) {
    throw new UsageError(`-d @${b.path}: ${errorMessage(e)}`);
  }
}

/** Runs one command; returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  let command: Command;
  let json: boolean;
  let dir: string;
  try {
    const parsed = parseCommand(argv);
    command = parsed.command;
    json = parsed.globals.json || !io.tty;
    dir = dataDir(parsed.globals.dataDir, io.env);
  } catch (e) {
    io.stderr(`${errorMessage(e)}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (command.name === 'help') {
    io.stdout(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (command.name === 'version') {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const out = (value: unknown, human: string) => io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
  const home = openHome(dir);
  const storage = sqliteStorage(home.database);
  const locks = processLocks(home.locks);
  installProcessLocks(locks);
  let agent: Agent | null = null;
  try {
    const config = await loadAgentConfig(storage);
    const runBudgetSats =
      command.name === 'fetch' ? command.runBudgetSats : command.name === 'mcp' ? command.sessionBudgetSats : undefined;
    agent = new Agent({
      home,
      storage,
      runBudgetMsat: runBudgetSats === undefined ? config.runBudgetMsat : runBudgetSats * 1000,
      ...(io.env.L402_AUTOPILOT_WALLET_TIMEOUT_MS
        ? { walletTimeoutMs: Number(io.env.L402_AUTOPILOT_WALLET_TIMEOUT_MS) }
        : {}),
    });
    return await run(agent, command, io, out, json, config);
  } catch (e) {
    const code =
      e instanceof AgentError
        ? e.code
        : e instanceof UsageError
          ? 'usage'
          : e instanceof SettingsError
            ? 'usage'
            : 'error';
    const exit = e instanceof AgentError ? e.exitCode : code === 'usage' ? EXIT.usage : EXIT.error;
    const message = errorMessage(e);
    if (json) io.stdout(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    else io.stderr(`l402-autopilot: ${message}\n`);
    return exit;
  } finally {
    agent?.close();
    locks.close();
    storage.close();
  }
}

/** Resumes payments a crash or timeout left open; a wallet that cannot be reached only postpones that. */
async function resume(agent: Agent, io: Io): Promise<void> {
  try {
    const r = await agent.resume();
    if (r.succeeded.length + r.failed.length > 0) {
      io.stderr(
        `resumed earlier payments: ${r.succeeded.length} succeeded, ${r.failed.length} failed, ${r.stillUnknown.length} still unknown\n`,
      );
    }
  } catch (e) {
    io.stderr(`cannot resume earlier payments yet: ${errorMessage(e)}\n`);
  }
}

async function run(
  agent: Agent,
  command: Exclude<Command, { name: 'help' } | { name: 'version' }>,
  io: Io,
  out: (value: unknown, human: string) => void,
  json: boolean,
  config: AgentConfig,
): Promise<number> {
  switch (command.name) {
    case 'fetch': {
      await resume(agent, io);
      const req = {
        url: command.url,
        headers: command.headers,
        ...(command.method ? { method: command.method } : {}),
        ...(command.maxSats === undefined ? {} : { maxSats: command.maxSats }),
      };
      const body = bodyOf(command.body, io);
      const full = body === undefined ? req : { ...req, body };
      if (command.dryRun) {
        const p = await agent.preview(full);
        const price = p.challenge
          ? `${p.challenge.scheme}: ${p.challenge.amountSats} sats (+ up to ${p.challenge.maxFeeSats} sats fee), payment hash ${p.challenge.paymentHash}`
          : `no payment asked (HTTP ${p.status})`;
        out(p, `${price}\nrules: ${p.verdict.action} — ${p.verdict.reason}`);
        return p.verdict.action === 'refuse' ? EXIT.refused : EXIT.ok;
      }
      const r = await agent.fetch(full);
      if (json) {
        const text = new TextDecoder('utf-8', { fatal: true });
        let bodyField: { body: string } | { bodyBase64: string };
        try {
          bodyField = { body: text.decode(r.body) };
        } catch {
          bodyField = { bodyBase64: Buffer.from(r.body).toString('base64') };
        }
        out({ status: r.status, headers: r.headers, ...bodyField, paid: r.paid, usedToken: r.usedToken }, '');
      } else {
        if (command.include) {
          io.stdout(
            `HTTP ${r.status} ${r.statusText}\n${Object.entries(r.headers)
              .map(([k, v]) => `${k}: ${v}`)
              .join('\n')}\n\n`,
          );
        }
        io.stdout(r.body);
        if (r.paid)
          io.stderr(
            `\npaid ${r.paid.amountSats} sats (fee ${r.paid.feeSats ?? '?'}) to ${r.paid.origin} (${r.paid.scheme}), payment hash ${r.paid.paymentHash}\n`,
          );
        else if (r.usedToken) io.stderr('\n(a stored token was used: nothing paid)\n');
      }
      return EXIT.ok;
    }
    case 'wallet-connect': {
      try {
        checkNwcUri(command.uri);
      } catch (e) {
        throw new UsageError(errorMessage(e));
      }
      writeSecret(agent.home.walletFile, command.uri.trim());
      out({ connected: true, file: agent.home.walletFile }, `wallet saved to ${agent.home.walletFile} (mode 0600)`);
      return EXIT.ok;
    }
    case 'wallet-disconnect':
      rmSync(agent.home.walletFile, { force: true });
      out({ connected: false }, 'wallet forgotten');
      return EXIT.ok;
    case 'wallet-info': {
      const wallet = await agent.wallet();
      try {
        const info = await wallet.getInfo!();
        const balance = await wallet.getBalance!();
        out(
          { ...info, balanceSats: balance.balanceMsat / 1000 },
          `alias: ${info.alias ?? '-'}\nnetwork: ${info.network ?? '-'}\nbalance: ${balance.balanceMsat / 1000} sats\nmethods: ${info.methods.join(', ')}`,
        );
      } catch (e) {
        throw new AgentError('wallet_unreachable', `the wallet cannot be reached: ${errorMessage(e)}`);
      }
      return EXIT.ok;
    }
    case 'rules-show': {
      const { rules } = await agent.settings();
      out({ ...rules, runBudgetMsat: config.runBudgetMsat }, humanRules(rules, config));
      return EXIT.ok;
    }
    case 'rules-set': {
      const c = command.change;
      const s = await agent.updateRules((r) => ({
        ...r,
        ...(c.enabled === undefined ? {} : { enabled: c.enabled }),
        ...(c.perPaymentCapSats === undefined ? {} : { perPaymentCapMsat: msatOf(c.perPaymentCapSats) }),
        ...(c.dailyCapSats === undefined ? {} : { dailyCapMsat: msatOf(c.dailyCapSats) }),
        ...(c.autoPayUnlisted === undefined ? {} : { autoPayUnlisted: c.autoPayUnlisted }),
        ...(c.maxFeePercent === undefined ? {} : { maxFeePercent: c.maxFeePercent }),
        ...(c.feeFloorSats === undefined ? {} : { feeFloorMsat: c.feeFloorSats * 1000 }),
      }));
      let next = config;
      if (c.runBudgetSats !== undefined) {
        next = { ...config, runBudgetMsat: msatOf(c.runBudgetSats) };
        await agent.storage.set(AGENT_CONFIG_KEY, next);
      }
      out({ ...s.rules, runBudgetMsat: next.runBudgetMsat }, humanRules(s.rules, next));
      return EXIT.ok;
    }
    case 'rules-allow':
    case 'rules-remove':
    case 'rules-deny':
    case 'rules-undeny': {
      const s = await agent.updateRules((r) => {
        const norm = (p: string) => (p.startsWith('*.') ? p.toLowerCase() : URL.canParse(p) ? new URL(p).origin : p);
        const pattern = norm(command.pattern);
        const others = r.sites.filter((x) => norm(x.pattern) !== pattern);
        if (command.name === 'rules-allow') {
          return {
            ...r,
            sites: [
              ...others,
              { pattern, budgetMsat: command.budgetSats * 1000, period: command.period, autoPay: command.autoPay },
            ],
          };
        }
        if (command.name === 'rules-remove') return { ...r, sites: others };
        const deny = r.deny.filter((p) => norm(p) !== pattern);
        return { ...r, deny: command.name === 'rules-deny' ? [...deny, pattern] : deny };
      });
      out({ ...s.rules, runBudgetMsat: config.runBudgetMsat }, humanRules(s.rules, config));
      return EXIT.ok;
    }
    case 'budget': {
      await resume(agent, io);
      const b = await agent.budget();
      const lines = [
        `today: ${b.daily.spentSats} sats spent${b.daily.capSats === null ? '' : `, ${b.daily.leftSats} of ${b.daily.capSats} left`}`,
        ...b.sites.map(
          (s) => `${s.pattern}: ${s.leftSats} of ${s.budgetSats} sats left (${s.period}${s.autoPay ? '' : ', asks'})`,
        ),
      ];
      out(b, lines.join('\n'));
      return EXIT.ok;
    }
    case 'payments': {
      await resume(agent, io);
      const records = await listPayments(agent.storage, command.limit === undefined ? {} : { limit: command.limit });
      if (command.format === 'csv') io.stdout(toCsv(records));
      else if (command.format === 'json' || json) io.stdout(`${toJson(records)}\n`);
      else {
        io.stdout(
          `${records
            .map(
              (r) =>
                `${new Date(r.createdAt).toISOString()}  ${r.status.padEnd(9)} ${String(r.amountMsat / 1000).padStart(7)} sats  fee ${r.feeMsat === null ? '?' : r.feeMsat / 1000}  ${r.url}\n    hash ${r.paymentHash}  preimage ${r.preimage ?? '-'}`,
            )
            .join('\n')}${records.length ? '\n' : 'no payments yet\n'}`,
        );
      }
      return EXIT.ok;
    }
    case 'tokens-list': {
      const tokens = await listTokens(agent);
      out(
        tokens.map((t) => ({
          origin: t.origin,
          pathPrefix: t.pathPrefix,
          paymentHash: t.paymentHash,
          validUntil: t.validUntil,
          createdAt: t.createdAt,
        })),
        tokens.length
          ? tokens
              .map(
                (t) =>
                  `${t.origin}${t.pathPrefix}  ${t.paymentHash}  ${t.validUntil === null ? 'no expiry' : `until ${new Date(t.validUntil).toISOString()}`}`,
              )
              .join('\n')
          : 'no tokens',
      );
      return EXIT.ok;
    }
    case 'tokens-forget': {
      const tokens = await listTokens(agent);
      const target = URL.canParse(command.what) ? new URL(command.what).origin : command.what.toLowerCase();
      const hit = tokens.filter((t) => t.paymentHash === target || t.origin === target);
      for (const t of hit) await revokeToken(agent, t.paymentHash);
      out({ forgotten: hit.map((t) => t.paymentHash) }, `forgot ${hit.length} token(s)`);
      return hit.length > 0 ? EXIT.ok : EXIT.error;
    }
    case 'mcp':
      await resume(agent, io);
      await serveMcp(agent, VERSION);
      return EXIT.ok;
  }
}

function humanRules(r: Awaited<ReturnType<Agent['settings']>>['rules'], config: AgentConfig): string {
  return [
    `enabled: ${r.enabled ? 'on' : 'off'}`,
    `per-payment cap: ${satsOf(r.perPaymentCapMsat)} (amount + max fee)`,
    `daily cap: ${satsOf(r.dailyCapMsat)}`,
    `run budget (per process): ${satsOf(config.runBudgetMsat)}`,
    `auto-pay services without a rule: ${r.autoPayUnlisted ? 'on (within both caps)' : 'off'}`,
    `max fee: ${r.maxFeePercent} %, at least ${r.feeFloorMsat / 1000} sats`,
    `allowed: ${r.sites.length ? '' : 'none'}`,
    ...r.sites.map(
      (s) => `  ${s.pattern}: ${s.budgetMsat / 1000} sats ${s.period}${s.autoPay ? '' : ' (asks: refused for agents)'}`,
    ),
    `denied: ${r.deny.length ? r.deny.join(', ') : 'none'}`,
  ].join('\n');
}
