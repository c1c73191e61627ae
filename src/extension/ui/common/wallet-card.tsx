// Wallet status shown by the popup, onboarding (after "test connection") and options.
import type { WalletStatus } from '../../messaging/protocol.ts';
import { sats } from './format.ts';

const KIND_TEXT: Record<WalletStatus['kind'], string> = {
  nwc: 'Nostr Wallet Connect',
  webln: "The page's WebLN wallet",
  none: 'No wallet',
};

/** Status pill + alias + balance. `compact` drops the methods list (popup). */
export function WalletSummary({ status, compact }: { status: WalletStatus; compact?: boolean }) {
  const tone = status.connected ? 'ok' : status.kind === 'none' ? 'warn' : 'danger';
  const word = status.connected ? 'Connected' : status.kind === 'none' ? 'Not set up' : 'Unreachable';
  return (
    <div class="stack" data-testid="wallet-status">
      <div class="row between">
        <div class="grow">
          <div class="eyebrow">{KIND_TEXT[status.kind]}</div>
          <div style="font-weight:650;font-size:15px">{status.alias ?? (status.kind === 'none' ? '—' : 'Wallet')}</div>
        </div>
        <span class={`pill ${tone}`}>{word}</span>
      </div>
      {status.balanceMsat !== null && (
        <div>
          <span class="big" data-testid="wallet-balance">
            {/* Whole sats: a balance shown to the millisat reads as noise. */}
            {sats(Math.floor(status.balanceMsat / 1000) * 1000)}
          </span>{' '}
          <span class="muted">sats available</span>
        </div>
      )}
      {status.error && (
        <p class="small" style="color:var(--danger)">
          {status.error}
        </p>
      )}
      {!compact && status.methods.length > 0 && (
        <div class="row wrap" style="gap:6px" title="Supported methods">
          {status.methods.map((m) => (
            <span key={m} class="pill plain mono">
              {m}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}
