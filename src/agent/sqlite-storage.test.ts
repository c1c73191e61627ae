import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listReservations } from '../extension/background/reservations.ts';
import { processLocks, sqliteStorage } from './sqlite-storage.ts';

const CHILD = join(import.meta.dirname, '../../test/support/agent-race-child.ts');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'agent-sqlite-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function child(dir: string, mode: string, id = '0', startAt = 0): { proc: ChildProcess; done: Promise<string> } {
  const proc = spawn(process.execPath, [CHILD, dir, mode, id, String(startAt)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    err += d;
  });
  const done = new Promise<string>((resolve, reject) => {
    proc.on('exit', (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`child ${mode} exited ${code ?? signal}: ${err}`)),
    );
  });
  return { proc, done };
}

describe('sqliteStorage', () => {
  it('stores JSON values, lists by prefix (a prefix with % or _ is literal) and removes', async () => {
    const s = sqliteStorage(join(tempDir(), 'db.sqlite'));
    await s.set('payment:a', { amount: 1, nested: [1, 'x', null] });
    await s.set('payment:b', 2);
    await s.set('paymentXc', 3);
    await s.set('a%_b', 4);
    await s.set('a%_b:1', 5);
    await s.set('axxb:1', 6);
    expect(await s.get('payment:a')).toEqual({ amount: 1, nested: [1, 'x', null] });
    expect([...(await s.getAll('payment:')).keys()].sort()).toEqual(['payment:a', 'payment:b']);
    expect([...(await s.getAll('a%_b')).keys()].sort()).toEqual(['a%_b', 'a%_b:1']);
    await s.remove('payment:a');
    expect(await s.get('payment:a')).toBeUndefined();
    await expect(s.set('u', undefined)).rejects.toThrow(/undefined/);
    s.close();
  });

  it('keeps what was written across reopening', async () => {
    const path = join(tempDir(), 'db.sqlite');
    const a = sqliteStorage(path);
    await a.set('k', { v: 1 });
    a.close();
    const b = sqliteStorage(path);
    expect(await b.get('k')).toEqual({ v: 1 });
    b.close();
  });
});

describe('processLocks across processes', () => {
  it('two processes doing locked read-modify-writes lose no update', async () => {
    const dir = tempDir();
    const at = Date.now() + 1500;
    await Promise.all([child(dir, 'counter', 'a', at).done, child(dir, 'counter', 'b', at).done]);
    const s = sqliteStorage(join(dir, 'state.sqlite'));
    expect(await s.get('counter')).toBe(50);
    s.close();
  });

  it("two processes reserving against one budget (room for 5) reserve exactly 5 with the engine's tryReserve", async () => {
    const dir = tempDir();
    const at = Date.now() + 1500;
    const [a, b] = await Promise.all([child(dir, 'reserve', 'a', at).done, child(dir, 'reserve', 'b', at).done]);
    expect(Number(a) + Number(b)).toBe(5);
    const s = sqliteStorage(join(dir, 'state.sqlite'));
    expect(await listReservations(s)).toHaveLength(5);
    s.close();
  });

  it('a holder killed with SIGKILL releases the lock', async () => {
    const dir = tempDir();
    const holder = child(dir, 'hold');
    await new Promise<void>((resolve) =>
      holder.proc.stdout?.on('data', (d) => String(d).includes('holding') && resolve()),
    );
    const locks = processLocks(join(dir, 'locks'), { waitMs: 200 });
    await expect(locks.request('counter', async () => 'got it')).rejects.toThrow(/held by another process/);
    holder.proc.kill('SIGKILL');
    await holder.done.catch(() => undefined);
    const waiting = processLocks(join(dir, 'locks'), { waitMs: 10_000 });
    await expect(waiting.request('counter', async () => 'got it')).resolves.toBe('got it');
    locks.close();
    waiting.close();
  });
});
