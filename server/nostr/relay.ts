// In-process Nostr relay on loopback: @nostr-relay/core over ws, with an in-memory store.
// Used by the regtest network and dev mode to carry NWC (NIP-47) traffic.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Event,
  EventRepository,
  type EventRepositoryUpsertResult,
  EventUtils,
  type Filter,
  type IncomingMessage,
} from '@nostr-relay/common';
import { NostrRelay } from '@nostr-relay/core';
import { WebSocketServer } from 'ws';

type EventKindClass = 'regular' | 'replaceable' | 'ephemeral' | 'addressable';

function kindClass(kind: number): EventKindClass {
  if (kind === 0 || kind === 3 || (kind >= 10_000 && kind < 20_000)) return 'replaceable';
  if (kind >= 20_000 && kind < 30_000) return 'ephemeral';
  if (kind >= 30_000 && kind < 40_000) return 'addressable';
  return 'regular';
}

/** The library's matcher ignores tag filters (#e, #p, …); add them for stored-event queries. */
function matches(event: Event, filter: Filter): boolean {
  if (!EventUtils.isMatchingFilter(event, filter)) return false;
  for (const [key, values] of Object.entries(filter)) {
    if (!key.startsWith('#') || !Array.isArray(values)) continue;
    const name = key.slice(1);
    if (!event.tags.some((t) => t[0] === name && t[1] !== undefined && (values as unknown[]).includes(t[1])))
      return false;
  }
  return true;
}

/**
 * In-memory store: replaceable kinds keep the newest event per pubkey+kind (per d-tag for
 * 30000–39999), regular kinds are all kept, ephemeral kinds are never stored (only broadcast).
 */
class MemoryEventRepository extends EventRepository {
  private readonly byKey = new Map<string, Event>();

  isSearchSupported(): boolean {
    return false;
  }

  upsert(event: Event): EventRepositoryUpsertResult {
    const cls = kindClass(event.kind);
    if (cls === 'ephemeral') return { isDuplicate: false };
    const key =
      cls === 'replaceable'
        ? `r:${event.pubkey}:${event.kind}`
        : cls === 'addressable'
          ? `a:${event.pubkey}:${event.kind}:${EventUtils.extractDTagValue(event) ?? ''}`
          : `e:${event.id}`;
    const old = this.byKey.get(key);
    if (old && (old.id === event.id || old.created_at > event.created_at)) return { isDuplicate: true };
    this.byKey.set(key, event);
    return { isDuplicate: false };
  }

  find(filter: Filter): Event[] {
    const out = [...this.byKey.values()].filter((e) => matches(e, filter)).sort((a, b) => b.created_at - a.created_at);
    return filter.limit === undefined ? out : out.slice(0, filter.limit);
  }

  async destroy(): Promise<void> {
    this.byKey.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}

export interface RelayHandle {
  url: string;
  port: number;
  /** Store shared across restarts, so a restarted relay still serves the NWC info event. */
  repository: MemoryEventRepository;
  close(): Promise<void>;
}

interface StartRelayOptions {
  /** 0 or undefined = a free port. */
  port?: number;
  host?: string;
  /** Reuse the store of a previous instance (relay restart in failure tests). */
  repository?: MemoryEventRepository;
}

export async function startRelay(opts: StartRelayOptions = {}): Promise<RelayHandle> {
  const host = opts.host ?? '127.0.0.1';
  const repository = opts.repository ?? new MemoryEventRepository();
  // filterResultCacheTtl 0: the default 1 s cache could serve a stale NWC info event.
  const relay = new NostrRelay(repository, { filterResultCacheTtl: 0, logger: quietLogger });
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('nostr relay: use a websocket');
  });
  const wss = new WebSocketServer({ server: http });

  wss.on('connection', (ws) => {
    relay.handleConnection(ws);
    ws.on('message', (data) => {
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        ws.send(JSON.stringify(['NOTICE', 'error: invalid JSON']));
        return;
      }
      if (!Array.isArray(msg) || typeof msg[0] !== 'string') {
        ws.send(JSON.stringify(['NOTICE', 'error: invalid message']));
        return;
      }
      // Shape checked above; event ids and signatures are verified by the relay core.
      relay.handleMessage(ws, msg as IncomingMessage).catch(() => undefined);
    });
    ws.on('close', () => relay.handleDisconnect(ws));
    ws.on('error', () => undefined);
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;

  let closed = false;
  return {
    url: `ws://${host}:${port}`,
    port,
    repository,
    async close() {
      if (closed) return;
      closed = true;
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

// The library logs every connection at info level; keep only errors.
const quietLogger = {
  setLogLevel(): void {},
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(...args: unknown[]): void {
    console.error('[relay]', ...args);
  },
};
