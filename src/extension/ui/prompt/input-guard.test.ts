import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInputGuard, type InputGuard } from './input-guard.ts';

describe('prompt input guard', () => {
  let guard: InputGuard;
  const changes: boolean[] = [];
  const trusted = { isTrusted: true };
  beforeEach(() => {
    vi.useFakeTimers();
    changes.length = 0;
    guard = createInputGuard({
      delayMs: 600,
      setTimer: (f, ms) => setTimeout(f, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      onArmedChange: (a) => changes.push(a),
    });
  });
  afterEach(() => {
    guard.dispose();
    vi.useRealTimers();
  });

  it('arms only after being visible and focused for the whole delay', () => {
    guard.shown(true);
    vi.advanceTimersByTime(599);
    expect(guard.armed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(guard.armed).toBe(true);
    expect(changes).toEqual([true]);
  });

  it('never arms while hidden or unfocused', () => {
    guard.shown(false);
    vi.advanceTimersByTime(10_000);
    expect(guard.armed).toBe(false);
  });

  it('a press that started before arming, or an autorepeat, does not approve', () => {
    guard.shown(true);
    guard.pressStarted(trusted);
    vi.advanceTimersByTime(600);
    expect(guard.deliberate(trusted)).toBe(false); // pressed before, released after
    guard.pressStarted({ isTrusted: true, repeat: true });
    expect(guard.deliberate(trusted)).toBe(false);
  });

  it('an activation with no press seen since arming (a keyup, a synthetic click) does not approve', () => {
    guard.shown(true);
    vi.advanceTimersByTime(600);
    expect(guard.deliberate(trusted)).toBe(false);
    guard.pressStarted({ isTrusted: false });
    expect(guard.deliberate({ isTrusted: false })).toBe(false);
  });

  it('a fresh trusted press after arming approves once', () => {
    guard.shown(true);
    vi.advanceTimersByTime(600);
    guard.pressStarted(trusted);
    expect(guard.deliberate(trusted)).toBe(true);
    expect(guard.deliberate(trusted)).toBe(false);
  });

  it('losing and regaining focus disarms and starts the delay again, dropping a press in progress', () => {
    guard.shown(true);
    vi.advanceTimersByTime(600);
    guard.pressStarted(trusted);
    guard.shown(false);
    guard.shown(true);
    expect(guard.armed).toBe(false);
    expect(guard.deliberate(trusted)).toBe(false);
    vi.advanceTimersByTime(300);
    guard.shown(true); // focus again: the delay restarts
    vi.advanceTimersByTime(599);
    expect(guard.armed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(guard.armed).toBe(true);
    expect(changes).toEqual([true, false, true]);
  });
});
