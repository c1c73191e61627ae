// First-run onboarding: connect a wallet, pick a starting rule preset, done. Opened by the background
// on install; finishing saves the settings with `onboarded: true`.
import '../common/theme.css';
import './onboarding.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { WalletStatus } from '../../messaging/protocol.ts';
import { DEFAULT_SETTINGS, type Rules, type Settings, type WalletConfig } from '../../model/model.ts';
import { parseNwcUri } from '../../../wallet/nwc-uri.ts';
import { call, errorText } from '../common/api.ts';
import { Banner, Brand, Field, Logo, SatsInput, Spinner } from '../common/components.tsx';
import { parseSats, sats, satsInput } from '../common/format.ts';
import { WalletSummary } from '../common/wallet-card.tsx';

type Step = 'wallet' | 'rules' | 'done';
type WalletChoice = 'nwc' | 'webln';
type Preset = 'ask' | 'auto';

const STEPS: { id: Step; label: string }[] = [
  { id: 'wallet', label: 'Connect a wallet' },
  { id: 'rules', label: 'Set your limits' },
  { id: 'done', label: 'Ready' },
];

function Stepper({ step }: { step: Step }) {
  const at = STEPS.findIndex((s) => s.id === step);
  return (
    <ol class="stepper" aria-label="Progress">
      {STEPS.map((s, i) => (
        <li key={s.id} class={i < at ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>
          <span class="dot">{i < at ? '✓' : i + 1}</span>
          {s.label}
        </li>
      ))}
    </ol>
  );
}

/** Client-side check so the user hears about a typo before any connection is tried (the background re-checks). */
function nwcProblem(uri: string): string | null {
  try {
    parseNwcUri(uri);
    return null;
  } catch (e) {
    return errorText(e);
  }
}

function WalletStep({ onNext }: { onNext: (wallet: WalletConfig, status: WalletStatus | null) => void }) {
  const [choice, setChoice] = useState<WalletChoice>('nwc');
  const [uri, setUri] = useState('');
  const [reveal, setReveal] = useState(false);
  const [touched, setTouched] = useState(false);
  const [testing, setTesting] = useState(false);
  const [status, setStatus] = useState<WalletStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const problem = uri.trim() ? nwcProblem(uri) : 'Paste the connection string from your wallet.';

  async function test() {
    setTouched(true);
    if (problem) return;
    setTesting(true);
    setError(null);
    setStatus(null);
    try {
      const s = await call('testWallet', { uri: uri.trim() });
      setStatus(s);
      if (!s.connected) setError(s.error ?? 'The wallet did not answer.');
    } catch (e) {
      setError(errorText(e));
    } finally {
      setTesting(false);
    }
  }

  const canContinue = choice === 'webln' || (status?.connected === true && !nwcProblem(uri));
  return (
    <section class="stack loose" aria-labelledby="wallet-h">
      <div>
        <h2 id="wallet-h">How should payments be made?</h2>
        <p class="muted">Your wallet keeps the money. L402 Autopilot only asks it to pay invoices you allow.</p>
      </div>
      <div class="choices" role="radiogroup" aria-label="Wallet">
        <label class="choice">
          <input type="radio" name="wallet" checked={choice === 'nwc'} onChange={() => setChoice('nwc')} />
          <span class="choice-body">
            <strong>Nostr Wallet Connect</strong>
            <span class="muted small">
              Recommended. Works on every site, even without another wallet extension. Alby Hub, Mutiny, Coinos, LNbits
              and others give you a connection string.
            </span>
          </span>
        </label>
        {choice === 'nwc' && (
          <div class="card flat stack nwc-box">
            <Field
              label="Connection string"
              hint="Starts with nostr+walletconnect:// — it stays in this browser and is never shown to websites."
              error={touched ? problem : null}
            >
              {(a) => (
                <textarea
                  {...a}
                  rows={3}
                  spellcheck={false}
                  // Masked like a password: the string holds the wallet secret (shoulder-surfing, screen shares).
                  class={reveal ? '' : 'secret'}
                  placeholder="nostr+walletconnect://…?relay=wss://…&secret=…"
                  value={uri}
                  onInput={(e) => {
                    setUri(e.currentTarget.value);
                    setStatus(null);
                  }}
                  onBlur={() => setTouched(true)}
                />
              )}
            </Field>
            <div class="row">
              <button type="button" class="btn" onClick={() => void test()} disabled={testing}>
                {testing && <Spinner label="Testing" />} Test connection
              </button>
              <button type="button" class="btn ghost small" aria-pressed={reveal} onClick={() => setReveal(!reveal)}>
                {reveal ? 'Hide' : 'Show'} string
              </button>
              {status?.connected && <span class="pill ok">Connection works</span>}
            </div>
            {error && <Banner kind="error">{error}</Banner>}
            {status?.connected && (
              <div class="card flat">
                <WalletSummary status={status} />
              </div>
            )}
          </div>
        )}
        <label class="choice">
          <input type="radio" name="wallet" checked={choice === 'webln'} onChange={() => setChoice('webln')} />
          <span class="choice-body">
            <strong>Use the page's WebLN wallet</strong>
            <span class="muted small">
              If you already use a WebLN wallet extension (such as Alby), payments go through it on sites where it is
              present.
            </span>
          </span>
        </label>
      </div>
      <div class="row between">
        <span class="muted small">You can change this later in Settings.</span>
        <button
          type="button"
          class="btn primary lg"
          disabled={!canContinue}
          onClick={() => onNext(choice === 'nwc' ? { kind: 'nwc', uri: uri.trim() } : { kind: 'webln' }, status)}
        >
          Continue
        </button>
      </div>
    </section>
  );
}

function RulesStep({
  base,
  onBack,
  onFinish,
}: {
  base: Rules;
  onBack: () => void;
  onFinish: (rules: Rules) => Promise<string | null>;
}) {
  const [preset, setPreset] = useState<Preset>('auto');
  const [perPayment, setPerPayment] = useState(satsInput(base.perPaymentCapMsat ?? 100_000));
  const [daily, setDaily] = useState(satsInput(base.dailyCapMsat ?? 1_000_000));
  const [errors, setErrors] = useState<{ perPayment?: string; daily?: string }>({});
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function finish() {
    const p = parseSats(perPayment);
    const d = parseSats(daily);
    const next: typeof errors = {};
    if (!p.ok) next.perPayment = p.message;
    if (!d.ok) next.daily = d.message;
    if (p.ok && d.ok && p.msat > d.msat) next.daily = 'The daily cap should be at least the per-payment cap.';
    setErrors(next);
    if (!p.ok || !d.ok || next.daily) return;
    setSaving(true);
    // "Auto-pay" pays any site without a rule of its own silently within both caps (docs/design.md#decide);
    // "Ask every time" keeps the caps as a safety net and asks for every payment, on every site.
    const rules: Rules = {
      ...base,
      enabled: true,
      perPaymentCapMsat: p.msat,
      dailyCapMsat: d.msat,
      autoPayUnlisted: preset === 'auto',
    };
    setError(
      await onFinish(
        preset === 'ask' ? { ...rules, sites: rules.sites.map((s) => ({ ...s, autoPay: false })) } : rules,
      ),
    );
    setSaving(false);
  }

  return (
    <section class="stack loose" aria-labelledby="rules-h">
      <div>
        <h2 id="rules-h">How much may it spend without asking?</h2>
        <p class="muted">Limits count the amount plus the routing fee. You can fine-tune per site later.</p>
      </div>
      <div class="choices" role="radiogroup" aria-label="Starting rules">
        <label class="choice">
          <input type="radio" name="preset" checked={preset === 'ask'} onChange={() => setPreset('ask')} />
          <span class="choice-body">
            <strong>Ask me every time</strong>
            <span class="muted small">
              A small window shows the site, the amount and why it asks. Nothing is paid silently.
            </span>
          </span>
        </label>
        <label class="choice">
          <input type="radio" name="preset" checked={preset === 'auto'} onChange={() => setPreset('auto')} />
          <span class="choice-body">
            <strong>Auto-pay small amounts</strong>
            <span class="muted small">
              Any site you visit may pay silently as long as a payment stays within the per-payment limit and today's
              total within the daily limit. Anything bigger asks first. You can still block sites or give them their own
              budget.
            </span>
          </span>
        </label>
      </div>
      <div class="card flat grid-2">
        <Field label="Per payment, at most" error={errors.perPayment ?? null} hint="Larger payments always ask.">
          {(a) => <SatsInput {...a} value={perPayment} onInput={setPerPayment} />}
        </Field>
        <Field label="Per day, at most" error={errors.daily ?? null} hint="Over all sites together.">
          {(a) => <SatsInput {...a} value={daily} onInput={setDaily} />}
        </Field>
      </div>
      {error && <Banner kind="error">{error}</Banner>}
      <div class="row between">
        <button type="button" class="btn ghost" onClick={onBack}>
          ← Back
        </button>
        <button type="button" class="btn primary lg" disabled={saving} onClick={() => void finish()}>
          {saving && <Spinner label="Saving" />} Finish setup
        </button>
      </div>
    </section>
  );
}

function DoneStep({ settings, status }: { settings: Settings; status: WalletStatus | null }) {
  const r = settings.rules;
  return (
    <section class="stack loose" aria-labelledby="done-h">
      <div class="done-mark" aria-hidden="true">
        <Logo size={40} />
      </div>
      <div style="text-align:center" class="stack">
        <h2 id="done-h">You're all set</h2>
        <p class="muted">
          When a site asks for a Lightning payment (HTTP 402), L402 Autopilot handles it within your limits.
        </p>
      </div>
      <dl class="kv card flat">
        <dt>Wallet</dt>
        <dd>{settings.wallet.kind === 'nwc' ? (status?.alias ?? 'Nostr Wallet Connect') : "Page's WebLN wallet"}</dd>
        {status?.balanceMsat != null && (
          <>
            <dt>Balance</dt>
            <dd data-testid="done-balance">{sats(status.balanceMsat)} sats</dd>
          </>
        )}
        <dt>Per payment</dt>
        <dd>{r.perPaymentCapMsat === null ? 'no limit' : `${sats(r.perPaymentCapMsat)} sats`}</dd>
        <dt>Per day</dt>
        <dd>{r.dailyCapMsat === null ? 'no limit' : `${sats(r.dailyCapMsat)} sats`}</dd>
        <dt>New sites</dt>
        <dd data-testid="done-unlisted">
          {r.autoPayUnlisted ? 'paid silently within these limits' : 'ask before every payment'}
        </dd>
      </dl>
      <div class="row" style="justify-content:center">
        <a class="btn" href="../options/index.html">
          Open settings
        </a>
        <button type="button" class="btn primary" onClick={() => window.close()}>
          Start browsing
        </button>
      </div>
    </section>
  );
}

function App() {
  const [step, setStep] = useState<Step>('wallet');
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [wallet, setWallet] = useState<WalletConfig>({ kind: 'none' });
  const [status, setStatus] = useState<WalletStatus | null>(null);

  useEffect(() => {
    call('getSettings', {}).then(setSettings, (e: unknown) => setLoadError(errorText(e)));
  }, []);

  async function finish(rules: Rules): Promise<string | null> {
    try {
      const saved = await call('saveSettings', { ...settings, wallet, rules, onboarded: true });
      setSettings(saved);
      setStep('done');
      return null;
    } catch (e) {
      return errorText(e);
    }
  }

  return (
    <main class="onboarding">
      <header class="row between">
        <Brand subtitle="Pay-per-use web, on Lightning" />
      </header>
      <Stepper step={step} />
      {loadError && <Banner kind="error">Could not load your settings: {loadError}</Banner>}
      <div class="card panel">
        {step === 'wallet' && (
          <WalletStep
            onNext={(w, s) => {
              setWallet(w);
              setStatus(s);
              setStep('rules');
            }}
          />
        )}
        {step === 'rules' && <RulesStep base={settings.rules} onBack={() => setStep('wallet')} onFinish={finish} />}
        {step === 'done' && <DoneStep settings={settings} status={status} />}
      </div>
    </main>
  );
}

render(<App />, document.getElementById('app')!);
