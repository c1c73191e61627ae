// Prompt window (docs/design.md#decide): one question, readable at a glance. Opened by the background as its own
// window with `?id=<prompt id>`. Approve takes only a click (or a key press on the focused button) that started
// after the window had been visible and focused for a short delay; no key approves from anywhere else, so a page
// that keeps the user typing cannot approve (docs/security.md "Prompt keyjacking"). Esc denies.
import '../common/theme.css';
import './prompt.css';
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  DEFAULT_SITE_BUDGET,
  type Period,
  SCHEME_NAMES,
  type PromptAnswer,
  type PromptRequest,
} from '../../model/model.ts';
import { call, errorText } from '../common/api.ts';
import { Banner, Brand, Field, PeriodSelect, SatsInput, SiteIcon, Spinner } from '../common/components.tsx';
import { CheckingBanner } from '../common/checking-banner.tsx';
import { hostOf, PERIOD_LABEL, parseSats, sats, siteNames } from '../common/format.ts';
import { createInputGuard } from './input-guard.ts';

/**
 * The input guard for this prompt (see input-guard.ts): `armed` for rendering, `deliberate(e)` for each approving
 * click. A fresh guard per prompt id, so the next queued prompt starts unarmed too.
 */
function useInputGuard(id: string): { armed: boolean; deliberate: (e: { isTrusted: boolean }) => boolean } {
  const [armed, setArmed] = useState(false);
  const guard = useMemo(
    () =>
      createInputGuard({
        setTimer: (f, ms) => setTimeout(f, ms),
        clearTimer: (t) => clearTimeout(t as number),
        onArmedChange: setArmed,
      }),
    // A new prompt id gets a new, unarmed guard.
    [id],
  );
  useEffect(() => {
    const update = () => guard.shown(document.visibilityState === 'visible' && document.hasFocus());
    const press = (e: KeyboardEvent | PointerEvent) =>
      guard.pressStarted({ isTrusted: e.isTrusted, repeat: 'repeat' in e ? e.repeat : false });
    update();
    // Capture phase: the guard sees each press before any button can act on it.
    window.addEventListener('keydown', press, true);
    window.addEventListener('pointerdown', press, true);
    window.addEventListener('focus', update);
    window.addEventListener('blur', update);
    document.addEventListener('visibilitychange', update);
    return () => {
      guard.dispose();
      window.removeEventListener('keydown', press, true);
      window.removeEventListener('pointerdown', press, true);
      window.removeEventListener('focus', update);
      window.removeEventListener('blur', update);
      document.removeEventListener('visibilitychange', update);
    };
  }, [guard]);
  return { armed, deliberate: guard.deliberate };
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

function budgetText(text: string): string {
  const parsed = parseSats(text);
  return parsed.ok ? `${sats(parsed.msat)} sats` : '…';
}

function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** `none`: what null means here (no daily cap is "no limit"; a site without a rule has "no budget set"). */
function Remaining({ label, msat, none }: { label: string; msat: number | null; none: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{msat === null ? none : `${sats(msat)} sats`}</dd>
    </>
  );
}

/** Who asks, for what: the site as the user knows it (registrable domain, then the full host), the amount, the scheme. */
function WhoAsks({ prompt }: { prompt: PromptRequest }) {
  const enable = prompt.kind === 'webln-enable';
  const site = prompt.initiator || prompt.origin;
  const crossSite = site !== prompt.origin;
  return (
    <section class="hero">
      <div class="row">
        <SiteIcon origin={site} />
        <div class="grow">
          {/* The registrable domain, plainly; then the full host, wrapped and never cut, so a look-alike subdomain
              shows in full. */}
          <div class="site-domain" data-testid="prompt-domain">
            {siteNames(site).domain}
          </div>
          {siteNames(site).host && (
            <div class="site-host" data-testid="prompt-host">
              {siteNames(site).host}
            </div>
          )}
          <div class="muted small" data-testid="prompt-who">
            {enable ? (
              'wants to use your Lightning wallet'
            ) : crossSite ? (
              <>
                wants to pay <strong>{siteNames(prompt.origin).domain}</strong>
                {siteNames(prompt.origin).host && (
                  <>
                    {' '}
                    <span class="site-host" data-testid="prompt-service-host">
                      ({siteNames(prompt.origin).host})
                    </span>
                  </>
                )}
              </>
            ) : (
              'asks for a Lightning payment'
            )}
          </div>
        </div>
      </div>
      {!enable && (
        <div class="amount" data-testid="prompt-amount">
          <span class="num">{sats(prompt.amountMsat)}</span> <span class="unit">sats</span>
        </div>
      )}
      {(prompt.kind === 'l402' || prompt.kind === 'payment' || prompt.kind === 'x402') && (
        <p class="muted small" data-testid="prompt-scheme">
          {hostOf(prompt.origin)}{' '}
          {prompt.kind === 'l402'
            ? `sells a token for ${sats(prompt.amountMsat)} sats (L402: it serves later requests too)`
            : `asks for a one-time charge of ${sats(prompt.amountMsat)} sats (${SCHEME_NAMES[prompt.kind === 'x402' ? 'x402' : 'payment']}: this request only)`}
        </p>
      )}
      {prompt.memo && <p class="memo">“{prompt.memo}”</p>}
    </section>
  );
}

/** What the payment may cost at most, and what is left of the budgets it counts against. */
function CostTable({ prompt, siteName, crossSite }: { prompt: PromptRequest; siteName: string; crossSite: boolean }) {
  return (
    <dl class="kv">
      <dt>Fee reserve (at most)</dt>
      <dd>{sats(prompt.maxFeeMsat)} sats</dd>
      <dt>Total at most</dt>
      <dd>{sats(prompt.amountMsat + prompt.maxFeeMsat)} sats</dd>
      <Remaining
        label={crossSite ? `Left in ${siteName}'s budget` : "Left in this site's budget"}
        msat={prompt.siteRemainingMsat}
        none="no budget set"
      />
      <Remaining label="Left of today's cap" msat={prompt.dailyRemainingMsat} none="no limit" />
    </dl>
  );
}

interface BudgetBoxProps {
  prompt: PromptRequest;
  siteName: string;
  crossSite: boolean;
  /** Approve is possible: armed, not expired, nothing being sent. */
  canApprove: boolean;
  deliberate: (e: { isTrusted: boolean }) => boolean;
  answer: (a: PromptAnswer) => Promise<void>;
}

/**
 * "Approve and set a budget for this site": the budget belongs to the site the user is on (the initiator,
 * docs/design.md#rules-semantics), whatever service it pays.
 */
function BudgetBox({ prompt, siteName, crossSite, canApprove, deliberate, answer }: BudgetBoxProps) {
  const [open, setOpen] = useState(false);
  // Start from the usual site budget, or twice this payment when that would not even cover it.
  const [budget, setBudget] = useState(() =>
    String(Math.ceil(Math.max(DEFAULT_SITE_BUDGET.budgetMsat, 2 * (prompt.amountMsat + prompt.maxFeeMsat)) / 1000)),
  );
  const [period, setPeriod] = useState<Period>('daily');
  const [budgetError, setBudgetError] = useState<string | null>(null);

  const approveWithBudget = useCallback(() => {
    const parsed = parseSats(budget);
    if (!parsed.ok) return setBudgetError(parsed.message);
    if (parsed.msat < prompt.amountMsat + prompt.maxFeeMsat)
      return setBudgetError(
        `The budget must cover this payment and its fee: at least ${sats(prompt.amountMsat + prompt.maxFeeMsat)} sats.`,
      );
    setBudgetError(null);
    void answer({ choice: 'approve-and-budget', budgetMsat: parsed.msat, period });
  }, [budget, period, prompt, answer]);

  return (
    <div class="budget-box">
      <button
        type="button"
        class="btn ghost small"
        style="max-width:100%"
        title={`Approve and set a budget for ${siteName}: what it may spend on any service`}
        aria-expanded={open}
        aria-controls="budget-form"
        onClick={() => setOpen(!open)}
      >
        {open ? '▾' : '▸'} Approve and set a budget for{' '}
        {crossSite ? <span class="site-host">{siteName}</span> : 'this site'}
      </button>
      {open && (
        <div class="budget-form" id="budget-form">
          <div class="row" style="align-items:flex-start">
            <div class="grow">
              <Field
                label="Budget"
                error={budgetError}
                hint={
                  crossSite
                    ? `What ${siteName} may spend, on any service it calls: later payments inside it are paid without asking.`
                    : 'Later payments inside it are paid without asking.'
                }
              >
                {(a) => <SatsInput {...a} value={budget} onInput={setBudget} />}
              </Field>
            </div>
            <Field label="Renews">{(a) => <PeriodSelect {...a} value={period} onChange={setPeriod} />}</Field>
          </div>
          <button
            type="button"
            class="btn block"
            disabled={!canApprove}
            onClick={(e) => deliberate(e) && approveWithBudget()}
          >
            Approve and allow {budgetText(budget)} {PERIOD_LABEL[period]}
          </button>
        </div>
      )}
    </div>
  );
}

function PromptView({ id, prompt }: { id: string; prompt: PromptRequest }) {
  const { armed, deliberate } = useInputGuard(id);
  const now = useNow(500);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const expired = now >= prompt.expiresAt;
  const enable = prompt.kind === 'webln-enable';

  const answer = useCallback(
    async (a: PromptAnswer) => {
      if (sending) return;
      setSending(true);
      try {
        await call('answerPrompt', { id, answer: a });
        window.close();
      } catch (e) {
        setError(errorText(e));
        setSending(false);
      }
    },
    [id, sending],
  );

  useEffect(() => {
    // Esc denies (harmless whatever pressed it). Enter approves nothing: a careful wallet takes no approval
    // from a key the user may have meant for the page.
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      void answer({ choice: 'deny' });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [answer]);

  // Focus the window's content, not a button: a stray Enter or Space then activates nothing.
  useEffect(() => mainRef.current?.focus(), []);

  // Budgets belong to the site the user is on (the initiator): when a page asks to pay another service, say so
  // plainly, and make clear whose budget is meant.
  const site = prompt.initiator || prompt.origin;
  const crossSite = site !== prompt.origin;
  const siteName = hostOf(site);
  const canApprove = armed && !expired && !sending;
  return (
    <main class="prompt stack loose" ref={mainRef} tabIndex={-1}>
      <header class="row between">
        <Brand />
        <span class={`pill ${expired ? 'danger' : 'plain'} num`} aria-live="off" data-testid="countdown">
          {expired ? 'Expired' : `Expires in ${countdown(prompt.expiresAt - now)}`}
        </span>
      </header>

      <WhoAsks prompt={prompt} />

      <Banner kind="info">
        <strong>Why you are asked:</strong> {prompt.reason}
      </Banner>
      {!enable && <CheckingBanner origin={prompt.origin} />}
      {!enable && <CostTable prompt={prompt} siteName={siteName} crossSite={crossSite} />}
      {error && <Banner kind="error">{error}</Banner>}
      {!enable && (
        <BudgetBox
          prompt={prompt}
          siteName={siteName}
          crossSite={crossSite}
          canApprove={canApprove}
          deliberate={deliberate}
          answer={answer}
        />
      )}

      <footer class="actions">
        <button type="button" class="btn lg" disabled={sending} onClick={() => void answer({ choice: 'deny' })}>
          Deny <kbd>Esc</kbd>
        </button>
        <button
          type="button"
          class="btn primary lg"
          disabled={!canApprove}
          onClick={(e) => deliberate(e) && void answer({ choice: 'approve-once' })}
        >
          {sending ? <Spinner label="Sending" /> : null}
          {enable ? 'Allow' : 'Approve once'}
        </button>
      </footer>
    </main>
  );
}

function App() {
  const id = new URLSearchParams(location.search).get('id') ?? '';
  const [state, setState] = useState<{ prompt?: PromptRequest | null; error?: string }>({});
  useEffect(() => {
    call('getPrompt', { id }).then(
      (prompt) => setState({ prompt }),
      (e: unknown) => setState({ error: errorText(e) }),
    );
  }, [id]);

  if (state.error)
    return (
      <main class="prompt stack">
        <Brand />
        <Banner kind="error">{state.error}</Banner>
        <button type="button" class="btn" onClick={() => window.close()}>
          Close
        </button>
      </main>
    );
  if (state.prompt === undefined)
    return (
      <main class="prompt">
        <Spinner />
      </main>
    );
  if (state.prompt === null)
    return (
      <main class="prompt stack">
        <Brand />
        <Banner kind="info">This request was already answered or has expired. Nothing will be paid.</Banner>
        <button type="button" class="btn" onClick={() => window.close()}>
          Close
        </button>
      </main>
    );
  return <PromptView id={id} prompt={state.prompt} />;
}

render(<App />, document.getElementById('app')!);
