// Real, signed BOLT11 invoices for tests, shared by every test that needs one. The `bolt11` package
// (encode + sign) is test/dev only (docs/design.md#protocol-facts): product code never imports this file. Keys are play keys.
import bolt11 from 'bolt11';

/** bech32 prefixes and address versions, as `bolt11` wants them. */
const TEST_NETWORKS = {
  mainnet: { bech32: 'bc', pubKeyHash: 0, scriptHash: 5, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 111, scriptHash: 196, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 111, scriptHash: 196, validWitnessVersions: [0, 1] },
  regtest: { bech32: 'bcrt', pubKeyHash: 111, scriptHash: 196, validWitnessVersions: [0, 1] },
};

/** Networks a test invoice can be signed for. */
export type TestNetwork = keyof typeof TEST_NETWORKS;

/** What goes into a test invoice; tags are written in this order: hash, secret, description, expiry. */
interface TestInvoiceParams {
  /** Hex secp256k1 private key of the "node" that signs. */
  signingKey: string;
  paymentHash: string;
  /** Unix seconds. */
  timestamp: number;
  description: string;
  /** Default `regtest`. */
  network?: TestNetwork;
  /** Leave both amounts out for a zero-amount invoice. */
  satoshis?: number;
  millisatoshis?: string;
  /** Hex; default a fixed `ee…`, so equal inputs give equal strings (signatures are deterministic). */
  paymentSecret?: string;
  /** Left out: no expire_time tag (the BOLT11 default of 3600 s applies). */
  expirySeconds?: number;
}

/** Encodes and signs one BOLT11 invoice. */
export function signTestInvoice(p: TestInvoiceParams): string {
  const tags: { tagName: string; data: string | number }[] = [
    { tagName: 'payment_hash', data: p.paymentHash },
    { tagName: 'payment_secret', data: p.paymentSecret ?? 'ee'.repeat(32) },
    { tagName: 'description', data: p.description },
  ];
  if (p.expirySeconds !== undefined) tags.push({ tagName: 'expire_time', data: p.expirySeconds });
  const encoded = bolt11.encode({
    network: TEST_NETWORKS[p.network ?? 'regtest'],
    ...(p.satoshis !== undefined ? { satoshis: p.satoshis } : {}),
    ...(p.millisatoshis !== undefined ? { millisatoshis: p.millisatoshis } : {}),
    timestamp: p.timestamp,
    tags,
  } as Parameters<typeof bolt11.encode>[0]);
  const signed = bolt11.sign(encoded, p.signingKey).paymentRequest;
  if (!signed) throw new Error('bolt11 did not sign');
  return signed;
}
