// Prices (docs/design.md#the-server): a fixed price per pair token, and for batch a base plus a price per unit
// of work (vectors × dimensions) so bigger jobs cost more. Batch tokens carry `batch_max_work` so a
// token paid for a small job cannot run a bigger one. Amounts are msat, rounded up to whole sat
// because many wallets cannot pay sub-sat invoices.
import { caveat } from '../src/l402/index.ts';
import { authSchemeList, type ServerConfig } from './config.ts';
import type { PaidRouteSpec } from './gate/l402-gate.ts';
import { caip2Network } from './gate/x402-gate.ts';

type PriceConfig = Pick<ServerConfig, 'pairPriceMsat' | 'batchBasePriceMsat' | 'batchPricePerKiloWorkMsat'>;

const roundUpToSat = (msat: number): number => Math.ceil(msat / 1000) * 1000;

/** The constraint caveat key binding the work a batch token paid for. */
const BATCH_MAX_WORK = 'batch_max_work';

/** Price of a batch of `work` = vectors × dimensions. */
export function batchPriceMsat(work: number, cfg: PriceConfig): number {
  return roundUpToSat(cfg.batchBasePriceMsat + Math.ceil((work * cfg.batchPricePerKiloWorkMsat) / 1000));
}

/** What `POST /v1/similarity` needs. */
export function pairSpec(cfg: PriceConfig): PaidRouteSpec {
  return {
    capability: 'pair',
    grants: ['pair'],
    priceMsat: roundUpToSat(cfg.pairPriceMsat),
    caveats: [],
    constraints: {},
    memo: 'cosine similarity: pair token',
  };
}

/** What `POST /v1/similarity/batch` with `work` = vectors × dims needs. A batch token also allows pairs. */
export function batchSpec(work: number, cfg: PriceConfig): PaidRouteSpec {
  return {
    capability: 'batch',
    grants: ['batch', 'pair'],
    priceMsat: batchPriceMsat(work, cfg),
    caveats: [caveat.constraint('batch', 'max_work', work)],
    constraints: {
      [BATCH_MAX_WORK]: (value) => {
        const max = Number(value);
        if (!Number.isSafeInteger(max)) return `unreadable limit ${JSON.stringify(value)}`;
        return work <= max
          ? true
          : `this batch is ${work} units of work (vectors × dimensions); the token paid for ${max}`;
      },
    },
    memo: `cosine similarity: batch token, ${work} units of work`,
    details: { work },
  };
}

/** The public price list (`GET /v1/pricing`). */
export function pricingDocument(cfg: ServerConfig): Record<string, unknown> {
  return {
    currency: 'msat',
    token_lifetime_seconds: cfg.tokenLifetimeSeconds,
    // One price for every scheme: an L402 token serves many requests until it expires, a `Payment` or x402 charge one.
    auth_schemes: authSchemeList(cfg.authSchemes),
    routes: [
      { method: 'POST', path: '/v1/similarity', capability: 'pair', price_msat: roundUpToSat(cfg.pairPriceMsat) },
      {
        method: 'GET',
        path: '/v1/similarity',
        query: 'a=1,2,3&b=4,5,6',
        capability: 'pair',
        price_msat: roundUpToSat(cfg.pairPriceMsat),
        answers: 'JSON, or an HTML page when Accept prefers text/html',
      },
      {
        method: 'POST',
        path: '/v1/similarity/batch',
        capability: 'batch',
        price: {
          base_msat: cfg.batchBasePriceMsat,
          per_1000_work_msat: cfg.batchPricePerKiloWorkMsat,
          work: 'vectors × dimensions',
          rounding: 'up to whole sat',
        },
        example: { vectors: 100, dims: 1536, price_msat: batchPriceMsat(100 * 1536, cfg) },
      },
    ],
    limits: {
      max_dims: cfg.maxDims,
      max_vectors: cfg.maxVectors,
      max_batch_work: cfg.maxBatchWork,
      max_body_bytes: cfg.maxBodyBytes,
      max_binary_body_bytes: cfg.maxBinaryBodyBytes,
    },
  };
}

/** The discovery document (`GET /.well-known/l402.json`). */
export function discoveryDocument(cfg: ServerConfig, network: string | null): Record<string, unknown> {
  const s = cfg.serviceName;
  return {
    l402: { schemes: ['L402', 'LSAT'], challenge_form: cfg.challengeForm, lsat_twin: cfg.lsatTwin, network },
    // Which offers a 402 carries (AUTH_SCHEMES): `l402`, `payment` (the IETF Payment scheme's Lightning charge) and/or
    // `x402` (x402 v2's Lightning `exact`, in PAYMENT-REQUIRED).
    auth_schemes: authSchemeList(cfg.authSchemes),
    payment: {
      method: 'lightning',
      intent: 'charge',
      realm: s,
      invalid_credential_status: cfg.invalidCredentialStatus,
    },
    x402: {
      x402_version: 2,
      scheme: 'exact',
      network: caip2Network(network),
      payment_method: 'lightning',
      offer_header: 'PAYMENT-REQUIRED',
      credential_header: 'PAYMENT-SIGNATURE',
      settlement_header: 'PAYMENT-RESPONSE',
    },
    services: [
      {
        name: s,
        tier: cfg.serviceTier,
        pricing: pricingDocument(cfg),
        caveats: [
          `services=${s}:${cfg.serviceTier}`,
          `${s}_capabilities=pair | batch,pair`,
          `${s}_valid_until=<unix seconds>`,
          `${BATCH_MAX_WORK}=<vectors × dimensions paid for> (batch tokens)`,
        ],
      },
    ],
  };
}
