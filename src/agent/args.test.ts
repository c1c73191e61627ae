import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from './args.ts';
import { dataDir } from './home.ts';

describe('parseCommand', () => {
  it('parses a curl-like fetch', () => {
    const { command, globals } = parseCommand([
      'fetch',
      'http://127.0.0.1:8402/v1/similarity',
      '-X',
      'post',
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-Two: a:b',
      '-d',
      '{"a":[1]}',
      '--max-sats',
      '20',
      '--json',
      '--data-dir',
      '/tmp/x',
    ]);
    expect(command).toEqual({
      name: 'fetch',
      url: 'http://127.0.0.1:8402/v1/similarity',
      method: 'POST',
      headers: [
        ['Content-Type', 'application/json'],
        ['X-Two', 'a:b'],
      ],
      body: { kind: 'text', text: '{"a":[1]}' },
      maxSats: 20,
      dryRun: false,
      runBudgetSats: undefined,
      include: false,
    });
    expect(globals).toEqual({ dataDir: '/tmp/x', json: true });
  });

  it('reads -d @file as a file body and --dry-run', () => {
    const { command } = parseCommand(['fetch', 'https://api.example/x', '-d', '@body.json', '--dry-run']);
    expect(command).toMatchObject({
      name: 'fetch',
      body: { kind: 'file', path: 'body.json' },
      dryRun: true,
      method: undefined,
    });
  });

  it.each([
    [['fetch'], /missing URL/],
    [['fetch', 'not a url'], /not a URL/],
    [['fetch', 'ftp://x/y'], /only http/],
    [['fetch', 'https://a.example', '--max-sats', '1.5'], /whole number/],
    [['fetch', 'https://a.example', '-H', 'novalue'], /Name: value/],
    [['fetch', 'https://a.example', '--bogus'], /bogus/],
    [['fetch', 'https://a.example', '-X', 'GET /x'], /HTTP method/],
    [['rules', 'set'], /nothing to set/],
    [['rules', 'set', '--enabled', 'maybe'], /on or off/],
    [['rules', 'allow', 'https://a.example'], /--budget/],
    [['rules', 'allow', 'https://a.example', '--budget', '5', '--period', 'hourly'], /--period/],
    [['payments', '--csv', '--json'], /not both/],
    [['wallet'], /connect/],
    [['tokens', 'forget'], /payment hash or origin/],
    [['frobnicate'], /unknown command/],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });

  it('parses rules set, allow, deny and the mcp session budget', () => {
    expect(
      parseCommand([
        'rules',
        'set',
        '--daily-cap',
        'none',
        '--per-payment-cap',
        '50',
        '--auto-pay-unlisted',
        'on',
        '--run-budget',
        '30',
      ]).command,
    ).toEqual({
      name: 'rules-set',
      change: { dailyCapSats: null, perPaymentCapSats: 50, autoPayUnlisted: true, runBudgetSats: 30 },
    });
    expect(
      parseCommand(['rules', 'allow', '*.example.com', '--budget', '100', '--period', 'weekly', '--ask']).command,
    ).toEqual({
      name: 'rules-allow',
      pattern: '*.example.com',
      budgetSats: 100,
      period: 'weekly',
      autoPay: false,
    });
    expect(parseCommand(['rules']).command).toEqual({ name: 'rules-show' });
    expect(parseCommand(['rules', '--json']).globals.json).toBe(true);
    expect(parseCommand(['rules', 'deny', 'https://evil.example']).command).toEqual({
      name: 'rules-deny',
      pattern: 'https://evil.example',
    });
    expect(parseCommand(['mcp', '--session-budget', '25']).command).toEqual({ name: 'mcp', sessionBudgetSats: 25 });
    expect(parseCommand(['payments', '--csv', '--limit', '3']).command).toEqual({
      name: 'payments',
      format: 'csv',
      limit: 3,
    });
    expect(parseCommand(['tokens']).command).toEqual({ name: 'tokens-list' });
  });
});

describe('dataDir', () => {
  it('prefers the flag, then L402_AUTOPILOT_HOME, then XDG_DATA_HOME, then ~/.local/share', () => {
    expect(dataDir('/flag', { L402_AUTOPILOT_HOME: '/env' })).toBe('/flag');
    expect(dataDir(undefined, { L402_AUTOPILOT_HOME: '/env', XDG_DATA_HOME: '/xdg' })).toBe('/env');
    expect(dataDir(undefined, { XDG_DATA_HOME: '/xdg' })).toBe('/xdg/l402-autopilot');
    // A relative XDG_DATA_HOME is invalid by the spec and ignored.
    expect(dataDir(undefined, { XDG_DATA_HOME: 'rel' })).toMatch(/\.local\/share\/l402-autopilot$/);
  });
});
