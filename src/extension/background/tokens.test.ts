import { describe, expect, it } from 'vitest';
import { caveat, formatAuthorization } from '../../l402/index.ts';
import { memoryStorage } from './storage.ts';
import { makeChallenge, NOW } from '../../../test/support/background-fixtures.ts';
import {
  authorizationFor,
  evictToken,
  findToken,
  lastRejection,
  listTokens,
  revokeToken,
  storeToken,
} from './tokens.ts';

const SERVICE = 'https://api.example.com';
const PAGE = 'https://app.example.org';

function setup() {
  let now = NOW;
  const deps = { storage: memoryStorage(), clock: () => now };
  return { deps, advance: (ms: number) => (now += ms) };
}

async function store(deps: ReturnType<typeof setup>['deps'], caveats: string[] = []) {
  const c = makeChallenge({ caveats });
  const token = await storeToken(deps, {
    paymentHash: c.paymentHash,
    origin: SERVICE,
    macaroon: c.macaroon,
    preimage: c.preimage,
    grantedTo: [PAGE],
  });
  return { c, token };
}

describe('token store', () => {
  it('scopes a token to origin + path prefix', async () => {
    const { deps } = setup();
    const { token } = await store(deps, ['path=/v1']);
    expect(token).toMatchObject({ origin: SERVICE, pathPrefix: '/v1', validUntil: null, createdAt: NOW });
    expect(await findToken(deps, `${SERVICE}/v1/similarity`)).not.toBeNull();
    expect(await findToken(deps, `${SERVICE}/v2/similarity`)).toBeNull();
    expect(await findToken(deps, 'http://api.example.com/v1/x')).toBeNull();
    expect(await findToken(deps, 'https://api.example.com:8443/v1/x')).toBeNull();
  });

  it('prefers the narrowest scope', async () => {
    const { deps } = setup();
    await store(deps);
    const { c } = await store(deps, ['path=/v1']);
    expect((await findToken(deps, `${SERVICE}/v1/x`))?.paymentHash).toBe(c.paymentHash);
  });

  it('honours valid_until and drops expired tokens', async () => {
    const { deps, advance } = setup();
    await store(deps, [caveat.validUntil('similarity', NOW / 1000 + 60)]);
    expect(await authorizationFor(deps, `${SERVICE}/x`, PAGE)).not.toBeNull();
    advance(60_000);
    expect(await authorizationFor(deps, `${SERVICE}/x`, PAGE)).toBeNull();
    expect(await listTokens(deps)).toEqual([]);
  });

  it('gives the header only to granted page origins and the service itself', async () => {
    const { deps } = setup();
    const { c } = await store(deps);
    const header = formatAuthorization({ macaroons: [c.macaroon], preimage: c.preimage });
    expect(await authorizationFor(deps, `${SERVICE}/x`, PAGE)).toBe(header);
    expect(await authorizationFor(deps, `${SERVICE}/x`, SERVICE)).toBe(header);
    expect(await authorizationFor(deps, `${SERVICE}/x`, 'https://evil.example')).toBeNull();
    expect(await authorizationFor(deps, `${SERVICE}/x`, 'null')).toBeNull();
  });

  it('evicts only the rejected token of that origin, and remembers the rejection', async () => {
    const { deps, advance } = setup();
    const { c } = await store(deps);
    const header = formatAuthorization({ macaroons: [c.macaroon], preimage: c.preimage });
    advance(3_000);
    expect(await evictToken(deps, 'https://other.example/x', header)).toBe(false);
    expect(await evictToken(deps, `${SERVICE}/x`, 'L402 garbage')).toBe(false);
    expect(await evictToken(deps, `${SERVICE}/x`, header)).toBe(true);
    expect(await findToken(deps, `${SERVICE}/x`)).toBeNull();
    expect(await lastRejection(deps, `${SERVICE}/y`)).toMatchObject({
      origin: SERVICE,
      pathPrefix: '/',
      tokenAgeMs: 3_000,
    });
    expect(await lastRejection(deps, 'https://api.example.com.evil.org/y')).toBeNull();
  });

  it('revokes by payment hash', async () => {
    const { deps } = setup();
    const { c } = await store(deps);
    expect(await revokeToken(deps, c.paymentHash)).toBe(true);
    expect(await revokeToken(deps, c.paymentHash)).toBe(false);
    expect(await listTokens(deps)).toEqual([]);
  });
});
