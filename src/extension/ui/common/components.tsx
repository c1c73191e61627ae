// Small building blocks shared by the pages. Each one carries its own accessibility wiring so pages cannot forget it.
import type { ComponentChildren, JSX } from 'preact';
import { useId } from 'preact/hooks';
import type { Period, PaymentStatus } from '../../model/model.ts';
import { hostOf, PERIOD_LABEL, sats } from './format.ts';

/** The brand mark: a lightning bolt on an amber tile. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg class="logo" width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="8" fill="#f7931a" />
      <path d="M18.5 4 8 18h7l-2 10 11-15h-7.2L18.5 4Z" fill="#1c1206" />
    </svg>
  );
}

export function Brand({ subtitle }: { subtitle?: string }) {
  return (
    <span class="brand">
      <Logo />
      <span>
        L402 Autopilot
        {subtitle && (
          <span class="muted small" style="display:block;font-weight:500">
            {subtitle}
          </span>
        )}
      </span>
    </span>
  );
}

/**
 * A labelled progress bar (`role=meter`). `max` null means "no limit": the bar stays neutral and the text says so.
 */
export function Meter({
  label,
  valueMsat,
  maxMsat,
  detail,
}: {
  label: string;
  valueMsat: number;
  maxMsat: number | null;
  detail?: ComponentChildren;
}) {
  const ratio = maxMsat ? Math.min(1, valueMsat / maxMsat) : 0;
  const over = maxMsat !== null && valueMsat > maxMsat;
  const text = maxMsat === null ? `${sats(valueMsat)} sats, no limit` : `${sats(valueMsat)} of ${sats(maxMsat)} sats`;
  return (
    <div>
      <div class="meter-head">
        <span class="label">{label}</span>
        <span class="num small">
          <strong>{sats(valueMsat)}</strong>
          <span class="muted"> / {maxMsat === null ? 'no limit' : `${sats(maxMsat)} sats`}</span>
        </span>
      </div>
      {/* The native meter carries the semantics; the div is only the visual bar. */}
      <meter class="sr-only" aria-label={label} min={0} max={maxMsat ?? valueMsat} value={valueMsat} title={text} />
      <div class={`bar${over ? ' over' : ''}${maxMsat === null ? ' none' : ''}`} aria-hidden="true">
        <span style={{ width: `${maxMsat === null ? 0 : Math.max(ratio * 100, valueMsat > 0 ? 2 : 0)}%` }} />
      </div>
      {detail && (
        <p class="hint" style="margin-top:6px">
          {detail}
        </p>
      )}
    </div>
  );
}

/** An on/off switch: a real button with role=switch so Space/Enter and screen readers work. */
export function Switch({
  checked,
  onChange,
  label,
  disabled,
  hideLabel,
}: {
  checked: boolean;
  onChange: (next: boolean) => void;
  label: string;
  disabled?: boolean;
  hideLabel?: boolean;
}) {
  return (
    <button
      type="button"
      class="switch"
      role="switch"
      aria-checked={checked}
      aria-label={hideLabel ? label : undefined}
      disabled={disabled}
      onClick={() => onChange(!checked)}
    >
      <span class="switch-track" />
      {!hideLabel && <span>{label}</span>}
    </button>
  );
}

export function Banner({ kind, children }: { kind: 'error' | 'ok' | 'info' | 'warn'; children: ComponentChildren }) {
  // Errors interrupt (alert); the rest are polite status updates.
  return (
    <div class={`banner ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <div>{children}</div>
    </div>
  );
}

const STATUS_TEXT: Record<PaymentStatus, [string, string]> = {
  succeeded: ['Paid', 'ok'],
  pending: ['Pending', 'warn'],
  unknown: ['Checking', 'warn'],
  failed: ['Failed', 'danger'],
};

export function StatusPill({ status }: { status: PaymentStatus }) {
  const [text, tone] = STATUS_TEXT[status];
  return <span class={`pill ${tone}`}>{text}</span>;
}

/** A letter tile standing in for a favicon (we never fetch favicons: no requests on the user's behalf). */
export function SiteIcon({ origin }: { origin: string }) {
  const host = hostOf(origin).replace(/^www\./, '');
  return (
    <span class="site-icon" aria-hidden="true">
      {host.charAt(0) || '?'}
    </span>
  );
}

/** A labelled field with hint and error text wired to the input through aria-describedby. */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: ComponentChildren;
  error?: string | null;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => JSX.Element;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const describedBy = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), 'aria-describedby': describedBy })}
      {error ? (
        <span class="field-error" id={errId}>
          {error}
        </span>
      ) : (
        hint && (
          <span class="hint" id={hintId}>
            {hint}
          </span>
        )
      )}
    </div>
  );
}

/** Accessibility props the pages pass through to inputs (from {@link Field} or an explicit label). */
interface A11yProps {
  id?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string | undefined;
  'aria-label'?: string;
}

/** A text input for sats with the unit shown inside the box. */
export function SatsInput({
  value,
  onInput,
  placeholder,
  ...a11y
}: A11yProps & { value: string; onInput: (v: string) => void; placeholder?: string }) {
  return (
    <div class="input-suffix">
      <input
        {...a11y}
        type="text"
        inputMode="numeric"
        autocomplete="off"
        placeholder={placeholder}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
      />
      <span>sats</span>
    </div>
  );
}

export function PeriodSelect({
  value,
  onChange,
  ...a11y
}: A11yProps & { value: Period; onChange: (p: Period) => void }) {
  return (
    <select {...a11y} value={value} onChange={(e) => onChange(e.currentTarget.value as Period)}>
      {(Object.keys(PERIOD_LABEL) as Period[]).map((p) => (
        <option key={p} value={p}>
          {PERIOD_LABEL[p]}
        </option>
      ))}
    </select>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span class="spinner" role="status" aria-label={label} />;
}
