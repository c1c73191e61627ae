// What may answer "approve" in the prompt window (docs/security.md "Prompt keyjacking"). Browsers guard their own
// permission prompts the same way: input counts only once the prompt has been visible and focused for a while,
// and only a press that STARTED after that (a key-down or pointer-down seen while armed, not an autorepeat).
// Losing focus or visibility disarms; regaining them starts the delay again. DOM-free so it can be unit tested;
// main.tsx wires it to window events.

/** Input delay after the prompt is visible and focused (Chromium's permission prompts use 500 ms). */
const ARM_DELAY_MS = 600;

interface InputGuardDeps {
  delayMs?: number;
  setTimer(f: () => void, ms: number): unknown;
  clearTimer(t: unknown): void;
  /** Told whenever `armed` changes (to enable or disable the buttons). */
  onArmedChange(armed: boolean): void;
}

export interface InputGuard {
  readonly armed: boolean;
  /** The window is now (not) visible and focused. Every change, and every regained focus, restarts the delay. */
  shown(visibleAndFocused: boolean): void;
  /** A key-down or pointer-down reached the window (capture phase, before any button sees it). */
  pressStarted(e: { isTrusted: boolean; repeat?: boolean }): void;
  /** An activation (a click) wants to approve: true only for a trusted one whose press started while armed. */
  deliberate(e: { isTrusted: boolean }): boolean;
  dispose(): void;
}

export function createInputGuard(deps: InputGuardDeps): InputGuard {
  const delay = deps.delayMs ?? ARM_DELAY_MS;
  let armed = false;
  let timer: unknown = null;
  // Whether the press now in progress began while armed. A click or keyup with no such press does nothing.
  let freshPress = false;

  const setArmed = (v: boolean) => {
    if (armed === v) return;
    armed = v;
    deps.onArmedChange(v);
  };
  const stop = () => {
    if (timer !== null) deps.clearTimer(timer);
    timer = null;
  };

  return {
    get armed() {
      return armed;
    },
    shown(visibleAndFocused) {
      stop();
      setArmed(false);
      freshPress = false;
      if (visibleAndFocused)
        timer = deps.setTimer(() => {
          timer = null;
          setArmed(true);
        }, delay);
    },
    pressStarted(e) {
      freshPress = armed && e.isTrusted && e.repeat !== true;
    },
    deliberate(e) {
      const ok = armed && e.isTrusted && freshPress;
      freshPress = false; // one press, one answer
      return ok;
    },
    dispose: stop,
  };
}
