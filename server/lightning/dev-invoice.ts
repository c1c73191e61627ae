// Real BOLT11 invoices for the dev backend and dev wallet, encoded and signed with the
// `bolt11` package (server/dev only: it pulls bitcoinjs-lib and friends, docs/design.md#protocol-facts). Play money only.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as bolt11 from 'bolt11';
import { bytesToHex, hexToBytes } from '../../src/l402/index.ts';
import { writeFileAtomic } from '../tokens/token-files.ts';

/** Networks the dev backend can sign for (never mainnet). */
export type DevNetwork = 'regtest' | 'testnet' | 'signet' | 'simnet';

/** bech32 human-readable parts and address versions, as `bolt11` wants them. */
const NETWORKS: Record<
  DevNetwork,
  { bech32: string; pubKeyHash: number; scriptHash: number; validWitnessVersions: number[] }
> = {
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  simnet: { bech32: 'sb', pubKeyHash: 0x3f, scriptHash: 0x7b, validWitnessVersions: [0, 1] },
};

/** The dev backend would mint invoices that look payable with real money: refuse at start. */
export class DevMainnetRefusedError extends Error {
  constructor() {
    super(
      'The dev Lightning backend issues PLAY-MONEY invoices signed by a throwaway key and refuses to run on mainnet. ' +
        'Set DEV_NETWORK=regtest (default), or BACKEND=lnd with a real node for real payments.',
    );
    this.name = 'DevMainnetRefusedError';
  }
}

/** Narrows a configured network to one the dev backend accepts; throws {@link DevMainnetRefusedError} for mainnet. */
export function assertDevNetwork(network: string): DevNetwork {
  if (network === 'mainnet' || network === 'bitcoin') throw new DevMainnetRefusedError();
  if (!(network in NETWORKS)) throw new Error(`dev backend: unknown network ${JSON.stringify(network)}`);
  return network as DevNetwork;
}

/** A persisted secp256k1 node key (hex file, mode 0600) and its compressed public key. */
export interface NodeKey {
  privateKeyHex: string;
  pubkeyHex: string;
}

/** Loads `<dataDir>/<name>`, creating a random key on first use. */
export function loadOrCreateNodeKey(dataDir: string, name: string): NodeKey {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, name);
  if (!existsSync(path)) writeFileAtomic(path, `${bytesToHex(secp256k1.utils.randomSecretKey())}\n`);
  const privateKeyHex = readFileSync(path, 'utf8').trim();
  const priv = hexToBytes(privateKeyHex);
  if (priv?.length !== 32) throw new Error(`${path} must hold a 32-byte hex key`);
  return { privateKeyHex, pubkeyHex: bytesToHex(secp256k1.getPublicKey(priv, true)) };
}

/** Encodes and signs one invoice. */
export function signDevInvoice(p: {
  key: NodeKey;
  network: DevNetwork;
  amountMsat: number;
  memo: string;
  expirySeconds: number;
  paymentHashHex: string;
  timestampS: number;
  /** 32-byte hex `payment_secret`; random when omitted. */
  paymentSecretHex?: string;
}): string {
  const encoded = bolt11.encode(
    {
      network: NETWORKS[p.network],
      millisatoshis: String(p.amountMsat),
      timestamp: p.timestampS,
      tags: [
        { tagName: 'payment_hash', data: p.paymentHashHex },
        {
          tagName: 'payment_secret',
          data: p.paymentSecretHex ?? bytesToHex(crypto.getRandomValues(new Uint8Array(32))),
        },
        { tagName: 'description', data: p.memo.slice(0, 600) },
        { tagName: 'expire_time', data: p.expirySeconds },
        { tagName: 'min_final_cltv_expiry', data: 18 },
      ],
    },
    true,
  );
  const signed = bolt11.sign(encoded, p.key.privateKeyHex);
  if (!signed.paymentRequest) throw new Error('bolt11 did not produce a payment request');
  return signed.paymentRequest;
}
