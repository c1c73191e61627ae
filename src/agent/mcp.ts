// The MCP server (stdio): tools `fetch`, `preview`, `budget`, `payments` over the agent engine, so an AI agent pays
// L402 APIs under the same rules as the CLI and the extension. A refusal is a tool error that says why.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { listPayments } from '../extension/background/ledger.ts';
import type { Agent, AgentRequest } from './agent.ts';
import { AgentError } from './errors.ts';
import { errorMessage } from '../util/error-message.ts';

/** The most body text a `fetch` result carries (an agent's context is precious). */
const MAX_BODY_CHARS = 64 * 1024;
/** Response headers worth an agent's attention. */
const CHOSEN_HEADERS = [
  'content-type',
  'content-length',
  'location',
  'retry-after',
  'www-authenticate',
  'cache-control',
];

const requestProps = {
  url: { type: 'string', description: 'http(s) URL' },
  method: { type: 'string', description: 'HTTP method (default GET, or POST with a body)' },
  headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'request headers' },
  body: { type: 'string', description: 'request body (text)' },
  max_sats: { type: 'integer', minimum: 0, description: 'refuse a payment above this many sats (amount + max fee)' },
} as const;

const TOOLS = [
  {
    name: 'fetch',
    description:
      'HTTP request that pays a 402 Payment Required over Lightning under the allowance rules (an L402 token, reused by later calls; or a one-time Payment / x402 Lightning charge), then retries with the credential. Returns status, headers, body and what was paid.',
    inputSchema: { type: 'object', properties: requestProps, required: ['url'] },
  },
  {
    name: 'preview',
    description: 'Sends the request without paying: the price, the scheme and whether the rules would pay it.',
    inputSchema: { type: 'object', properties: requestProps, required: ['url'] },
  },
  {
    name: 'budget',
    description: 'What is left to spend: today overall, this session, and per service rule in its period.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'payments',
    description: 'Recent payments from the ledger, newest first, with proofs (preimages).',
    inputSchema: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 500 } } },
  },
] as const;

function requestOf(args: Record<string, unknown>): AgentRequest {
  const { url, method, headers, body, max_sats } = args;
  if (typeof url !== 'string') throw new AgentError('usage', 'url must be a string');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AgentError('usage', `not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AgentError('usage', 'only http(s) URLs');
  if (method !== undefined && (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)))
    throw new AgentError('usage', 'method must be an HTTP method');
  if (body !== undefined && typeof body !== 'string') throw new AgentError('usage', 'body must be a string');
  const h: [string, string][] = [];
  if (headers !== undefined) {
    if (!headers || typeof headers !== 'object' || Array.isArray(headers))
      throw new AgentError('usage', 'headers must be an object');
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v !== 'string') throw new AgentError('usage', `header ${k} must be a string`);
      h.push([k, v]);
    }
  }
  if (max_sats !== undefined && (typeof max_sats !== 'number' || !Number.isSafeInteger(max_sats) || max_sats < 0)) {
    throw new AgentError('usage', 'max_sats must be a whole number of sats');
  }
  return {
    url: u.href,
    headers: h,
    ...(method === undefined ? {} : { method: method.toUpperCase() }),
    ...(body === undefined ? {} : { body }),
    ...(max_sats === undefined ? {} : { maxSats: max_sats }),
  };
}

const text = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }] });

/** Runs one tool; errors become `isError` results with the reason, never a protocol failure. */
async function callTool(agent: Agent, name: string, args: Record<string, unknown>) {
  try {
    switch (name) {
      case 'fetch': {
        const r = await agent.fetch(requestOf(args));
        const body = new TextDecoder().decode(r.body);
        const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => CHOSEN_HEADERS.includes(k)));
        return text({
          status: r.status,
          headers,
          body: body.length > MAX_BODY_CHARS ? body.slice(0, MAX_BODY_CHARS) : body,
          bodyTruncated: body.length > MAX_BODY_CHARS,
          paid: r.paid && {
            scheme: r.paid.scheme,
            sats: r.paid.amountSats,
            feeSats: r.paid.feeSats,
            paymentHash: r.paid.paymentHash,
            preimage: r.paid.preimage,
          },
          usedStoredToken: r.usedToken,
        });
      }
      case 'preview':
        return text(await agent.preview(requestOf(args)));
      case 'budget':
        return text(await agent.budget());
      case 'payments': {
        const limit =
          typeof args.limit === 'number' && Number.isSafeInteger(args.limit)
            ? Math.min(500, Math.max(1, args.limit))
            : 20;
        const records = await listPayments(agent.storage, { limit });
        return text(
          records.map((p) => ({
            at: new Date(p.createdAt).toISOString(),
            status: p.status,
            origin: p.origin,
            url: p.url,
            sats: p.amountMsat / 1000,
            feeSats: p.feeMsat === null ? null : p.feeMsat / 1000,
            paymentHash: p.paymentHash,
            preimage: p.preimage,
            error: p.error,
          })),
        );
      }
      default:
        throw new AgentError('usage', `unknown tool ${name}`);
    }
  } catch (e) {
    const code = e instanceof AgentError ? e.code : 'error';
    const message = errorMessage(e);
    return { isError: true, content: [{ type: 'text' as const, text: `${code}: ${message}` }] };
  }
}

/**
 * Serves the tools over stdio until stdin closes.
 * @example await serveMcp(agent, version)
 */
export async function serveMcp(agent: Agent, version: string): Promise<void> {
  const server = new Server({ name: 'l402-autopilot', version }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS.map((t) => ({ ...t })) }));
  server.setRequestHandler(CallToolRequestSchema, async (req) =>
    callTool(agent, req.params.name, req.params.arguments ?? {}),
  );
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.on('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
}
