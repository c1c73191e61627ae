import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has safe defaults: dev backend on 127.0.0.1', () => {
    const c = loadConfig();
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8402,
      backend: 'dev',
      devNetwork: 'regtest',
      dataDir: '.data/server',
      lsatTwin: true,
    });
  });

  it('reads env over file over defaults, and coerces types', () => {
    const c = loadConfig({
      env: { PORT: '9000', LSAT_TWIN: 'false', PRICE_PAIR_MSAT: '2000' },
      file: { port: 1234, maxDims: 8, pairPriceMsat: 5000 },
    });
    expect(c.port).toBe(9000);
    expect(c.maxDims).toBe(8);
    expect(c.pairPriceMsat).toBe(2000);
    expect(c.lsatTwin).toBe(false);
  });

  it('reads CONFIG_FILE through the injected reader', () => {
    const c = loadConfig({ env: { CONFIG_FILE: '/x.json' }, readFile: () => '{"tokenLifetimeSeconds": 60}' });
    expect(c.tokenLifetimeSeconds).toBe(60);
  });

  it('collects every problem with the variable named', () => {
    try {
      loadConfig({
        env: { PORT: 'eighty', BACKEND: 'cln', LSAT_TWIN: 'maybe', PRICE_PAIR_MSAT: '5' },
        file: { nope: 1 },
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const p = (e as ConfigError).problems.join('\n');
      expect(p).toMatch(/PORT must be an integer/);
      expect(p).toMatch(/BACKEND must be one of dev, lnd/);
      expect(p).toMatch(/LSAT_TWIN must be true or false/);
      expect(p).toMatch(/PRICE_PAIR_MSAT must be an integer in \[1000/);
      expect(p).toMatch(/unknown setting "nope"/);
    }
  });

  it('requires the lnd connection settings for BACKEND=lnd', () => {
    expect(() => loadConfig({ env: { BACKEND: 'lnd' } })).toThrow(
      /LND_REST_URL[\s\S]*LND_TLS_CERT_PATH[\s\S]*LND_MACAROON_PATH/,
    );
  });

  it('checks CORS origins', () => {
    expect(() => loadConfig({ env: { CORS_ORIGINS: 'evil' } })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ env: { CORS_ORIGINS: 'https://a.example,chrome-extension://abc' } }).corsOrigins).toContain(
      'https://a.example',
    );
  });

  it('reports an unreadable CONFIG_FILE', () => {
    expect(() => loadConfig({ env: { CONFIG_FILE: '/x.json' }, readFile: () => 'not json' })).toThrow(
      /CONFIG_FILE \/x.json/,
    );
  });

  it('AUTH_SCHEMES and INVALID_CREDENTIAL_STATUS: defaults l402 / 402, the allowed values, and clear refusals', () => {
    expect(loadConfig()).toMatchObject({ authSchemes: 'l402', invalidCredentialStatus: 402 });
    expect(loadConfig({ env: { AUTH_SCHEMES: 'l402,payment', INVALID_CREDENTIAL_STATUS: '401' } })).toMatchObject({
      authSchemes: 'l402,payment',
      invalidCredentialStatus: 401,
    });
    expect(loadConfig({ env: { AUTH_SCHEMES: 'payment' } }).authSchemes).toBe('payment');
    for (const ok of ['x402', 'l402,x402', 'payment,x402', 'l402,payment,x402'])
      expect(loadConfig({ env: { AUTH_SCHEMES: ok } }).authSchemes).toBe(ok);
    expect(loadConfig({ env: { AUTH_SCHEMES: ' x402 , l402' } }).authSchemes).toBe('x402,l402');
    for (const bad of ['mpp', 'l402,', 'l402,l402', 'L402', 'l402;x402'])
      expect(() => loadConfig({ env: { AUTH_SCHEMES: bad } })).toThrow(
        /AUTH_SCHEMES must be a comma list of distinct values from l402, payment, x402/,
      );
    expect(() => loadConfig({ env: { INVALID_CREDENTIAL_STATUS: '403' } })).toThrow(
      /INVALID_CREDENTIAL_STATUS must be an integer in \[401, 402\]/,
    );
  });
});
