// Rules editor (docs/design.md#rules-semantics): the form keeps what the user typed as text, checks it in words
// before saving, and shows the background's own refusal too (it validates again: the UI is not the authority).
import { useState } from 'preact/hooks';
import { isValidPattern } from '../../background/rules.ts';
import type { Period, Rules, Settings } from '../../model/model.ts';
import { call, errorText } from '../common/api.ts';
import { Banner, Field, PeriodSelect, SatsInput, Switch } from '../common/components.tsx';
import { parseSats, satsInput } from '../common/format.ts';

interface SiteDraft {
  key: number;
  pattern: string;
  budget: string;
  period: Period;
  autoPay: boolean;
}

interface Draft {
  enabled: boolean;
  perPayment: string;
  daily: string;
  autoPayUnlisted: boolean;
  sites: SiteDraft[];
  deny: string[];
  feePercent: string;
  feeFloor: string;
}

type Errors = Record<string, string>;

let nextKey = 1;

function toDraft(r: Rules): Draft {
  return {
    enabled: r.enabled,
    perPayment: satsInput(r.perPaymentCapMsat),
    daily: satsInput(r.dailyCapMsat),
    autoPayUnlisted: r.autoPayUnlisted,
    sites: r.sites.map((s) => ({
      key: nextKey++,
      pattern: s.pattern,
      budget: satsInput(s.budgetMsat),
      period: s.period,
      autoPay: s.autoPay,
    })),
    deny: [...r.deny],
    feePercent: String(r.maxFeePercent),
    feeFloor: satsInput(r.feeFloorMsat),
  };
}

const PATTERN_HELP = 'Use an origin like https://api.example.com or a domain like *.example.com.';

/** Empty means "no cap" for the two caps. */
function optionalSats(text: string): { ok: true; msat: number | null } | { ok: false; message: string } {
  if (text.trim() === '') return { ok: true, msat: null };
  return parseSats(text);
}

/** Turns the draft into Rules, or the errors keyed by field. */
function fromDraft(d: Draft, base: Rules): { rules: Rules } | { errors: Errors } {
  const errors: Errors = {};
  const per = optionalSats(d.perPayment);
  if (!per.ok) errors.perPayment = per.message;
  const daily = optionalSats(d.daily);
  if (!daily.ok) errors.daily = daily.message;
  // Silent payments to sites without a rule must stay bounded (the background refuses it too).
  if (d.autoPayUnlisted && per.ok && per.msat === null) {
    errors.perPayment =
      'Auto-paying sites without a rule needs a per-payment cap: enter one, or switch that off below.';
  }
  if (d.autoPayUnlisted && daily.ok && daily.msat === null) {
    errors.daily = 'Auto-paying sites without a rule needs a daily cap: enter one, or switch that off below.';
  }
  const pct = Number(d.feePercent.trim());
  if (d.feePercent.trim() === '' || !Number.isFinite(pct) || pct < 0 || pct > 100)
    errors.feePercent = 'Enter a percentage between 0 and 100.';
  const floor = parseSats(d.feeFloor);
  if (!floor.ok) errors.feeFloor = floor.message;
  const seen = new Set<string>();
  const sites = d.sites.map((s) => {
    const pattern = s.pattern.trim();
    if (!isValidPattern(pattern)) errors[`site-${s.key}-pattern`] = PATTERN_HELP;
    else if (seen.has(pattern)) errors[`site-${s.key}-pattern`] = 'This site already has a budget above.';
    seen.add(pattern);
    const b = parseSats(s.budget);
    if (!b.ok) errors[`site-${s.key}-budget`] = b.message;
    return { pattern, budgetMsat: b.ok ? b.msat : 0, period: s.period, autoPay: s.autoPay };
  });
  if (Object.keys(errors).length > 0 || !per.ok || !daily.ok || !floor.ok) return { errors };
  return {
    rules: {
      ...base,
      enabled: d.enabled,
      perPaymentCapMsat: per.msat,
      dailyCapMsat: daily.msat,
      autoPayUnlisted: d.autoPayUnlisted,
      sites,
      deny: d.deny,
      maxFeePercent: pct,
      feeFloorMsat: floor.msat,
    },
  };
}

function DenyList({ items, onChange }: { items: string[]; onChange: (next: string[]) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  function add(e: Event) {
    e.preventDefault();
    const p = text.trim();
    if (!isValidPattern(p)) return setError(PATTERN_HELP);
    if (items.includes(p)) return setError('Already on the list.');
    onChange([...items, p]);
    setText('');
    setError(null);
  }
  return (
    <div class="stack">
      {items.length === 0 ? (
        <p class="muted small">Nobody is blocked.</p>
      ) : (
        <ul class="row wrap list-plain" aria-label="Blocked sites">
          {items.map((p) => (
            <li key={p} class="chip">
              {p}
              <button type="button" aria-label={`Unblock ${p}`} onClick={() => onChange(items.filter((x) => x !== p))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <form class="row" style="align-items:flex-start" onSubmit={add}>
        <div class="grow">
          <Field label="Block a site" error={error}>
            {(a) => (
              <input
                {...a}
                type="text"
                placeholder="*.example.com"
                value={text}
                onInput={(e) => setText(e.currentTarget.value)}
              />
            )}
          </Field>
        </div>
        <button type="submit" class="btn" style="margin-top:22px">
          Block
        </button>
      </form>
    </div>
  );
}

/** What every card of the form gets: the draft, its errors and the two ways to change it. */
interface CardProps {
  draft: Draft;
  errors: Errors;
  patch: (p: Partial<Draft>) => void;
  patchSite: (key: number, p: Partial<SiteDraft>) => void;
}

/** The global switch. */
function EnabledCard({ draft, patch }: CardProps) {
  return (
    <section class="card">
      <div class="row between">
        <div>
          <h2>Automatic payments</h2>
          <p class="muted small">When off, nothing is paid and nobody is asked: sites just see the 402.</p>
        </div>
        <Switch label="Enabled" checked={draft.enabled} onChange={(enabled) => patch({ enabled })} />
      </div>
    </section>
  );
}

/** Per-payment and daily caps, the fee reserve, and auto-pay for sites without a rule. */
function LimitsCard({ draft, errors, patch }: CardProps) {
  return (
    <section class="card stack loose">
      <div>
        <h2>Limits</h2>
        <p class="muted small">
          Every limit counts the amount plus the fee reserve. Over a limit, you are asked instead. Leave a cap empty for
          no limit.
        </p>
      </div>
      <div class="grid-2">
        <Field label="Per-payment cap" error={errors.perPayment} hint="The largest single payment made without asking.">
          {(a) => (
            <SatsInput
              {...a}
              value={draft.perPayment}
              onInput={(perPayment) => patch({ perPayment })}
              placeholder="no limit"
            />
          )}
        </Field>
        <Field label="Daily cap" error={errors.daily} hint="Over all sites, from local midnight.">
          {(a) => <SatsInput {...a} value={draft.daily} onInput={(daily) => patch({ daily })} placeholder="no limit" />}
        </Field>
        <Field label="Fee reserve, percent" error={errors.feePercent} hint="Routing fee reserved per payment.">
          {(a) => (
            <div class="input-suffix">
              <input
                {...a}
                type="text"
                inputMode="decimal"
                value={draft.feePercent}
                onInput={(e) => patch({ feePercent: e.currentTarget.value })}
              />
              <span>%</span>
            </div>
          )}
        </Field>
        <Field label="Fee reserve, at least" error={errors.feeFloor} hint="Whichever is larger is reserved.">
          {(a) => <SatsInput {...a} value={draft.feeFloor} onInput={(feeFloor) => patch({ feeFloor })} />}
        </Field>
      </div>
      <div class="stack">
        <Switch
          label="Auto-pay sites without a rule (within the caps above)"
          checked={draft.autoPayUnlisted}
          onChange={(autoPayUnlisted) => patch({ autoPayUnlisted })}
        />
        <p class="muted small">
          {draft.autoPayUnlisted
            ? 'On: payments caused by a site you visit that has no budget of its own are made without asking while the payment is within the per-payment cap and today’s total within the daily cap. Both caps are required.'
            : 'Off: a site you visit with no budget of its own asks before every payment.'}
        </p>
      </div>
    </section>
  );
}

/** One row per site budget: pattern, amount, period, auto-pay. */
function SiteBudgetsCard({ draft, errors, patch, patchSite }: CardProps) {
  return (
    <section class="card stack" aria-labelledby="sites-h">
      <div class="row between">
        <div>
          <h2 id="sites-h">Site budgets</h2>
          <p class="muted small" data-testid="sites-help">
            What a site you visit may spend: every payment a page on it causes counts against its budget, whichever
            service the page pays (a page you open directly pays its own site). A budget given to a service is not
            available to other pages that call it.{' '}
            {draft.autoPayUnlisted
              ? 'Sites without a budget are paid within the caps above. '
              : 'Sites without a budget always ask. '}
            A site's own rule always applies instead: its budget, or “ask” when auto-pay is off for it. Budgets renew by
            local calendar: daily at midnight, weekly on Monday, monthly on the 1st.
          </p>
        </div>
        <button
          type="button"
          class="btn small"
          onClick={() =>
            patch({
              sites: [...draft.sites, { key: nextKey++, pattern: '', budget: '1000', period: 'daily', autoPay: true }],
            })
          }
        >
          + Add site
        </button>
      </div>
      {draft.sites.length === 0 ? (
        <p class="empty">No site budgets yet. Approving a payment with “set a budget” adds one here.</p>
      ) : (
        <table class="sites-table">
          <thead>
            <tr>
              <th>Site</th>
              <th>Budget</th>
              <th>Renews</th>
              <th>Auto-pay</th>
              <th>
                <span class="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {draft.sites.map((s) => {
              const name = s.pattern || 'new site';
              const pe = errors[`site-${s.key}-pattern`];
              const be = errors[`site-${s.key}-budget`];
              return (
                <tr key={s.key}>
                  <td>
                    <input
                      type="text"
                      aria-label={`Site pattern (${name})`}
                      aria-invalid={Boolean(pe)}
                      placeholder="https://api.example.com"
                      value={s.pattern}
                      onInput={(e) => patchSite(s.key, { pattern: e.currentTarget.value })}
                    />
                    {pe && <div class="field-error">{pe}</div>}
                  </td>
                  <td style="width:150px">
                    <SatsInput
                      aria-label={`Budget for ${name}`}
                      aria-invalid={Boolean(be)}
                      value={s.budget}
                      onInput={(budget) => patchSite(s.key, { budget })}
                    />
                    {be && <div class="field-error">{be}</div>}
                  </td>
                  <td style="width:130px">
                    <PeriodSelect
                      aria-label={`Budget period for ${name}`}
                      value={s.period}
                      onChange={(period) => patchSite(s.key, { period })}
                    />
                  </td>
                  <td style="width:80px">
                    <Switch
                      hideLabel
                      label={`Auto-pay on ${name}`}
                      checked={s.autoPay}
                      onChange={(autoPay) => patchSite(s.key, { autoPay })}
                    />
                  </td>
                  <td style="width:40px">
                    <button
                      type="button"
                      class="btn ghost small"
                      aria-label={`Remove ${name}`}
                      onClick={() => patch({ sites: draft.sites.filter((x) => x.key !== s.key) })}
                    >
                      ✕
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The deny list. */
function DenyCard({ draft, patch }: CardProps) {
  return (
    <section class="card stack" aria-labelledby="deny-h">
      <div>
        <h2 id="deny-h">Never pay</h2>
        <p class="muted small">Payments for these sites, or caused by pages on them, are refused without asking.</p>
      </div>
      <DenyList items={draft.deny} onChange={(deny) => patch({ deny })} />
    </section>
  );
}

export function RulesEditor({ settings, onSaved }: { settings: Settings; onSaved: (s: Settings) => void }) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(settings.rules));
  const [errors, setErrors] = useState<Errors>({});
  const [banner, setBanner] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const patch = (p: Partial<Draft>) => {
    setDraft({ ...draft, ...p });
    setBanner(null);
  };
  const patchSite = (key: number, p: Partial<SiteDraft>) =>
    patch({ sites: draft.sites.map((s) => (s.key === key ? { ...s, ...p } : s)) });

  const card: CardProps = { draft, errors, patch, patchSite };

  async function save(e: Event) {
    e.preventDefault();
    const out = fromDraft(draft, settings.rules);
    if ('errors' in out) {
      setErrors(out.errors);
      setBanner({ kind: 'error', text: 'Some values need fixing before they can be saved (marked below).' });
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      const saved = await call('saveSettings', { ...settings, rules: out.rules });
      onSaved(saved);
      setDraft(toDraft(saved.rules));
      setBanner({ kind: 'ok', text: 'Rules saved.' });
    } catch (err) {
      setBanner({ kind: 'error', text: `Not saved: ${errorText(err)}` });
    } finally {
      setSaving(false);
    }
  }

  return (
    <form class="stack loose" onSubmit={save} noValidate aria-label="Rules">
      <EnabledCard {...card} />

      <LimitsCard {...card} />

      <SiteBudgetsCard {...card} />

      <DenyCard {...card} />

      <div class="save-bar">
        <div class="grow">{banner && <Banner kind={banner.kind}>{banner.text}</Banner>}</div>
        <button
          type="button"
          class="btn ghost"
          onClick={() => {
            setDraft(toDraft(settings.rules));
            setErrors({});
            setBanner(null);
          }}
        >
          Discard changes
        </button>
        <button type="submit" class="btn primary" disabled={saving}>
          Save rules
        </button>
      </div>
    </form>
  );
}
