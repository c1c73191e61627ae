// Wallet settings: status, which wallet pays, change/disconnect the NWC connection, and window.webln injection.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { parseNwcUri } from '../../../wallet/nwc-uri.ts';
import type { Settings, WeblnInjection } from '../../model/model.ts';
import { call, errorText } from '../common/api.ts';
import { Banner, Field, Spinner } from '../common/components.tsx';
import { useApi } from '../common/use-api.ts';
import { WalletSummary } from '../common/wallet-card.tsx';
import type { WalletStatus } from '../../messaging/protocol.ts';

const INJECTION: { value: WeblnInjection; label: string; hint: string }[] = [
  { value: 'off', label: 'Off', hint: 'Pages never see a window.webln from this extension.' },
  { value: 'when-absent', label: 'When none', hint: 'Offered only on pages where no other WebLN wallet is present.' },
  { value: 'always', label: 'Always', hint: 'Replaces any other provider: pages pay through your rules.' },
];

type BannerState = { kind: 'ok' | 'error'; text: string } | null;

/** What the cards share: the settings, whether a save is running, and how to save or report. */
interface CardProps {
  settings: Settings;
  busy: boolean;
  save: (next: Settings, okText: string) => Promise<boolean>;
}

/** The wallet in use, with refresh, "Change connection" and "Disconnect". */
function CurrentWalletCard({
  settings,
  busy,
  save,
  editing,
  onEdit,
}: CardProps & { editing: boolean; onEdit: () => void }) {
  const status = useApi('getWalletStatus', {}, [settings.wallet]);
  return (
    <section class="card stack" aria-labelledby="wallet-h">
      <div class="row between">
        <h2 id="wallet-h">Current wallet</h2>
        <button
          type="button"
          class="btn small ghost"
          onClick={() => void status.reload()}
          aria-label="Refresh wallet status"
        >
          ↻ Refresh
        </button>
      </div>
      {status.error && <Banner kind="error">{status.error}</Banner>}
      {!status.data && !status.error && <Spinner />}
      {status.data && <WalletSummary status={status.data} />}
      <div class="row">
        {settings.wallet.kind === 'nwc' && !editing && (
          <button type="button" class="btn" onClick={onEdit}>
            Change connection
          </button>
        )}
        {settings.wallet.kind !== 'none' && (
          <button
            type="button"
            class="btn danger"
            disabled={busy}
            onClick={() =>
              void save(
                { ...settings, wallet: { kind: 'none' } },
                'Wallet disconnected. Nothing will be paid until you connect one.',
              )
            }
          >
            Disconnect
          </button>
        )}
      </div>
    </section>
  );
}

/** A new NWC connection string: tested against the wallet before it can be saved. */
function NwcEditor({
  settings,
  busy,
  save,
  setBusy,
  setBanner,
  onClose,
}: CardProps & { setBusy: (b: boolean) => void; setBanner: (b: BannerState) => void; onClose: () => void }) {
  const [uri, setUri] = useState('');
  const [tested, setTested] = useState<WalletStatus | null>(null);

  async function test() {
    try {
      parseNwcUri(uri);
    } catch (e) {
      setBanner({ kind: 'error', text: errorText(e) });
      return;
    }
    setBusy(true);
    setBanner(null);
    try {
      const s = await call('testWallet', { uri: uri.trim() });
      setTested(s);
      if (!s.connected) setBanner({ kind: 'error', text: s.error ?? 'The wallet did not answer.' });
    } catch (e) {
      setBanner({ kind: 'error', text: errorText(e) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="stack nwc-edit">
      <Field label="New connection string" hint="nostr+walletconnect://… from your wallet. Test it before saving.">
        {(a) => (
          <textarea
            {...a}
            rows={3}
            spellcheck={false}
            // Masked like a password: the string holds the wallet secret.
            class="secret"
            value={uri}
            placeholder="nostr+walletconnect://…"
            onInput={(e) => {
              setUri(e.currentTarget.value);
              setTested(null);
            }}
          />
        )}
      </Field>
      {tested?.connected && <WalletSummary status={tested} />}
      <div class="row">
        <button type="button" class="btn" disabled={busy || !uri.trim()} onClick={() => void test()}>
          Test connection
        </button>
        <button
          type="button"
          class="btn primary"
          disabled={busy || !tested?.connected}
          onClick={() =>
            void save({ ...settings, wallet: { kind: 'nwc', uri: uri.trim() } }, 'Wallet connected.').then((ok) => {
              if (ok) onClose();
            })
          }
        >
          Save connection
        </button>
        {settings.wallet.kind !== 'none' && (
          <button type="button" class="btn ghost" onClick={onClose}>
            Cancel
          </button>
        )}
      </div>
    </div>
  );
}

/** Which wallet pays: this extension's NWC connection or the page's WebLN wallet. */
function PayWithCard({
  settings,
  busy,
  save,
  onEdit,
  children,
}: CardProps & { onEdit: () => void; children: ComponentChildren }) {
  const prefer = settings.wallet.kind === 'webln' ? 'webln' : 'nwc';
  return (
    <section class="card stack" aria-labelledby="prefer-h">
      <div>
        <h2 id="prefer-h">Pay with</h2>
        <p class="muted small">Which wallet pays for L402 challenges.</p>
      </div>
      <div class="choices two">
        <label class="choice">
          <input
            type="radio"
            name="prefer"
            checked={settings.wallet.kind !== 'none' && prefer === 'nwc'}
            disabled={busy}
            onChange={() => (settings.wallet.kind === 'nwc' ? undefined : onEdit())}
          />
          <span class="choice-body">
            <strong>Nostr Wallet Connect</strong>
            <span class="muted small">This extension's own connection. Works on every site.</span>
          </span>
        </label>
        <label class="choice">
          <input
            type="radio"
            name="prefer"
            checked={prefer === 'webln'}
            disabled={busy}
            onChange={() =>
              void save({ ...settings, wallet: { kind: 'webln' } }, "Payments now go through the page's WebLN wallet.")
            }
          />
          <span class="choice-body">
            <strong>The page's WebLN wallet</strong>
            <span class="muted small">Another wallet extension (such as Alby) pays, where present.</span>
          </span>
        </label>
      </div>
      {children}
    </section>
  );
}

/** Whether pages are offered this extension's window.webln. */
function InjectionCard({ settings, busy, save }: CardProps) {
  return (
    <section class="card stack" aria-labelledby="inject-h">
      <div>
        <h2 id="inject-h">Offer window.webln to pages</h2>
        <p class="muted small">
          Lets web apps that speak WebLN pay through this extension, under the same rules and prompts.
        </p>
      </div>
      <div class="segmented" role="radiogroup" aria-label="Offer window.webln">
        {INJECTION.map((o) => (
          <label key={o.value}>
            <input
              type="radio"
              name="webln"
              value={o.value}
              checked={settings.webln === o.value}
              disabled={busy}
              onChange={() => void save({ ...settings, webln: o.value }, 'Saved.')}
            />
            {o.label}
          </label>
        ))}
      </div>
      <p class="hint">{INJECTION.find((o) => o.value === settings.webln)?.hint}</p>
    </section>
  );
}

export function WalletSettings({ settings, onSaved }: { settings: Settings; onSaved: (s: Settings) => void }) {
  const [editing, setEditing] = useState(settings.wallet.kind === 'none');
  const [busy, setBusy] = useState(false);
  const [banner, setBanner] = useState<BannerState>(null);

  async function save(next: Settings, okText: string): Promise<boolean> {
    setBusy(true);
    try {
      onSaved(await call('saveSettings', next));
      setBanner({ kind: 'ok', text: okText });
      return true;
    } catch (e) {
      setBanner({ kind: 'error', text: `Not saved: ${errorText(e)}` });
      return false;
    } finally {
      setBusy(false);
    }
  }

  const card: CardProps = { settings, busy, save };
  return (
    <div class="stack loose">
      {banner && <Banner kind={banner.kind}>{banner.text}</Banner>}
      <CurrentWalletCard {...card} editing={editing} onEdit={() => setEditing(true)} />
      <PayWithCard {...card} onEdit={() => setEditing(true)}>
        {editing && <NwcEditor {...card} setBusy={setBusy} setBanner={setBanner} onClose={() => setEditing(false)} />}
      </PayWithCard>
      <InjectionCard {...card} />
    </div>
  );
}
