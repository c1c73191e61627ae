import { describe, expect, it } from 'vitest';
import { createClient, createDispatcher, isEnvelope, toWireError } from './channel.ts';
import type { Handlers, PageApi } from './protocol.ts';
import { PAGE_METHODS, pageChecks, tabChecks, tabResultChecks } from './schema.ts';
import { CHANNEL, isWindowMessage } from './window-channel.ts';

type Ctx = { pageOrigin: string };
const unreachable = async (): Promise<never> => {
  throw new Error('not in this test');
};
const handlers: Handlers<PageApi, Ctx> = {
  hello: async () => ({ webln: 'off', scopes: [] }),
  challenge: async (_a, ctx) => ({ authorization: `L402 for ${ctx.pageOrigin}`, scope: null }),
  authorizationFor: async () => ({ authorization: null }),
  tokenRejected: async () => {
    throw Object.assign(new Error('nope'), { code: 'loop_guard' });
  },
  paidInBackground: async () => ({ retry: false }),
  weblnEnable: unreachable,
  weblnIsEnabled: unreachable,
  weblnGetInfo: unreachable,
  weblnSendPayment: unreachable,
  weblnKeysend: unreachable,
  weblnMakeInvoice: unreachable,
  weblnGetBalance: unreachable,
  weblnLookupInvoice: unreachable,
  weblnSignMessage: unreachable,
};
const page = createDispatcher('page', pageChecks, handlers);
const ctx = { pageOrigin: 'https://site.example' };
const challenge = {
  url: 'https://api.example/x',
  method: 'POST',
  wwwAuthenticate: ['L402 macaroon="a", invoice="b"'],
};

describe('channel', () => {
  it('routes a well-formed call, with identity from the context only', async () => {
    const client = createClient('page', (env) => page.dispatch(env, ctx));
    await expect(client('challenge', challenge)).resolves.toEqual({
      authorization: 'L402 for https://site.example',
      scope: null,
    });
  });

  it('serialises thrown errors as {code, message}', async () => {
    const client = createClient('page', (env) => page.dispatch(env, ctx));
    await expect(
      client('tokenRejected', { url: 'https://a.example/', authorization: 'L402 x:y' }),
    ).rejects.toMatchObject({
      code: 'loop_guard',
      message: 'nope',
    });
    expect(toWireError('boom')).toEqual({ code: 'internal', message: 'boom' });
  });

  it('refuses unknown methods, prototype keys and other boundaries', async () => {
    for (const method of ['getSettings', 'listTokens', 'constructor', '__proto__', 'toString']) {
      expect(await page.dispatch({ boundary: 'page', method, arg: {} }, ctx)).toMatchObject({
        ok: false,
        error: { code: 'unknown_method' },
      });
    }
    expect(page.accepts({ boundary: 'ui', method: 'getSettings', arg: {} })).toBe(false);
    expect(isEnvelope({ boundary: 'page', method: 'hello' })).toBe(false);
  });

  it("a client with result checks refuses a peer's malformed answer; the tab dispatcher checks its arguments", async () => {
    const forged = createClient('tab', async () => ({ ok: true, value: { preimage: 'zz' } }), tabResultChecks);
    await expect(forged('weblnPayViaPage', { paymentRequest: 'lnbcrt1' })).rejects.toMatchObject({ code: 'bad_reply' });
    const tab = createDispatcher('tab', tabChecks, { weblnPayViaPage: async () => ({ preimage: 'ab'.repeat(32) }) });
    const honest = createClient('tab', (env) => tab.dispatch(env, null), tabResultChecks);
    await expect(honest('weblnPayViaPage', { paymentRequest: 'lnbcrt1' })).resolves.toEqual({
      preimage: 'ab'.repeat(32),
    });
    expect(
      await tab.dispatch({ boundary: 'tab', method: 'weblnPayViaPage', arg: { paymentRequest: 'x' } }, null),
    ).toMatchObject({ ok: false, error: { code: 'bad_request' } });
  });

  it('the page method list is exactly the PageApi keys', () => {
    expect([...PAGE_METHODS].sort()).toEqual(Object.keys(handlers).sort());
  });
});

describe('page message checks', () => {
  const bad: [string, unknown][] = [
    ['origin in the payload', { ...challenge, origin: 'https://victim.example' }],
    ['non-http url', { ...challenge, url: 'javascript:alert(1)' }],
    ['empty challenge list', { ...challenge, wwwAuthenticate: [] }],
    ['method with CR/LF', { ...challenge, method: 'GET\r\nX' }],
    ['not an object', 'challenge'],
    ['array', [challenge]],
    ['oversized header', { ...challenge, wwwAuthenticate: ['L402 '.padEnd(20_000, 'a')] }],
  ];
  it.each(bad)('refuses %s', async (_why, arg) => {
    expect(pageChecks.challenge(arg)).not.toBeNull();
    expect(await page.dispatch({ boundary: 'page', method: 'challenge', arg }, ctx)).toMatchObject({
      ok: false,
      error: { code: 'bad_request' },
    });
  });
  it('accepts the real shapes', () => {
    expect(pageChecks.challenge(challenge)).toBeNull();
    expect(pageChecks.hello({})).toBeNull();
    expect(pageChecks.weblnSendPayment({ paymentRequest: 'lnbcrt10u1p' })).toBeNull();
    expect(pageChecks.weblnSendPayment({ paymentRequest: 'x' })).not.toBeNull();
  });
  it('checks what a page answers to the background', () => {
    expect(tabResultChecks.weblnPayViaPage({ preimage: 'ab'.repeat(32) })).toBeNull();
    expect(tabResultChecks.weblnPayViaPage({ preimage: 'zz' })).not.toBeNull();
  });
  it('window messages need the channel tag and a bounded id', () => {
    expect(isWindowMessage({ ch: CHANNEL, kind: 'req', id: 'a', method: 'hello', arg: {} })).toBe(true);
    expect(isWindowMessage({ ch: 'other', kind: 'req', id: 'a' })).toBe(false);
    expect(isWindowMessage({ ch: CHANNEL, kind: 'req', id: 'x'.repeat(65) })).toBe(false);
    expect(isWindowMessage({ ch: CHANNEL, kind: 'evil', id: 'a' })).toBe(false);
  });
});
