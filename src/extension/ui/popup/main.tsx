// Toolbar popup: wallet, today's spend vs the daily cap, the current tab's site, the last payments.
import '../common/theme.css';
import './popup.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import browser from 'webextension-polyfill';
import { call, errorText } from '../common/api.ts';
import { CheckingBanner } from '../common/checking-banner.tsx';
import { Banner, Brand, Meter, SiteIcon, Spinner, StatusPill, Switch } from '../common/components.tsx';
import { hostOf, PERIOD_NOUN, relative, sats, schemeList, shortTime } from '../common/format.ts';
import { useApi } from '../common/use-api.ts';
import { WalletSummary } from '../common/wallet-card.tsx';
import type { SiteSummary } from '../../messaging/protocol.ts';
import { challengeBreakdown, SCHEME_NAMES } from '../../model/model.ts';

interface ActiveSite {
  origin: string;
  tabId?: number;
}

/**
 * The site of the active tab. `?origin=` (and `?tabId=`) override it: the popup opened as a normal page (tests,
 * screenshots) has itself as the active tab.
 */
async function activeSite(): Promise<ActiveSite | null> {
  const params = new URLSearchParams(location.search);
  const forced = params.get('origin');
  const forcedTab = Number(params.get('tabId'));
  if (forced)
    return Number.isInteger(forcedTab) && forcedTab > 0 ? { origin: forced, tabId: forcedTab } : { origin: forced };
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  if (!tab?.url) return null;
  try {
    const url = new URL(tab.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return tab.id === undefined ? { origin: url.origin } : { origin: url.origin, tabId: tab.id };
  } catch {
    return null;
  }
}

function openOptions(hash = '') {
  const url = browser.runtime.getURL(`src/extension/ui/options/index.html${hash}`);
  void browser.tabs.create({ url });
  window.close();
}

function SiteCard({ site }: { site: ActiveSite }) {
  const summary = useApi('getSiteSummary', site.tabId === undefined ? { origin: site.origin } : site, [site.origin]);
  // Whether a site without a rule is auto-paid within the caps: decides what "no budget" means here.
  const settings = useApi('getSettings', {});
  const unlisted = settings.data?.rules.autoPayUnlisted ?? false;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function toggle(autoPay: boolean) {
    setBusy(true);
    try {
      const next = await call('setSiteAutoPay', { origin: site.origin, autoPay });
      // The answer has no tab context, so keep the tab's 402 count from the first read.
      const before = summary.data;
      summary.set(
        before && before.challengesSeen > next.challengesSeen
          ? { ...next, challengesSeen: before.challengesSeen, challengesBySchemes: before.challengesBySchemes }
          : next,
      );
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  const s: SiteSummary | null = summary.data;
  return (
    <section class="card" aria-label="This site">
      <div class="card-title">
        <div class="row grow">
          <SiteIcon origin={site.origin} />
          <div class="grow">
            <div class="eyebrow">This site</div>
            <div class="site-host" title={site.origin}>
              {hostOf(site.origin)}
            </div>
          </div>
        </div>
        {s && s.challengesSeen > 0 && (
          <span
            class="pill warn"
            data-testid="site-challenges"
            title={`Payment requests (HTTP 402) met in this tab: ${challengeBreakdown(s.challengesBySchemes)}`}
          >
            {s.challengesSeen} × 402
            {schemeList(s.challengesBySchemes) && ` · ${schemeList(s.challengesBySchemes)}`}
          </span>
        )}
      </div>
      {summary.error && <Banner kind="error">{summary.error}</Banner>}
      {error && <Banner kind="error">{error}</Banner>}
      <CheckingBanner origin={site.origin} />
      {!s && !summary.error && <Spinner />}
      {s && (
        <div class="stack">
          {s.rule ? (
            <Meter
              label={`Spent ${PERIOD_NOUN[s.rule.period]}`}
              valueMsat={s.spentMsat}
              maxMsat={s.rule.budgetMsat}
              detail={s.renewsAt ? `Budget renews ${relative(s.renewsAt)}` : 'Lifetime budget: it does not renew'}
            />
          ) : (
            <p class="muted small" data-testid="site-no-rule">
              {unlisted
                ? 'No budget of its own: paid without asking within your per-payment and daily caps.'
                : 'No budget for this site yet: every payment it causes asks first.'}
              {s.spentMsat > 0 && ` Spent so far: ${sats(s.spentMsat)} sats.`}
            </p>
          )}
          <div class="row between">
            <Switch
              label="Auto-pay on this site"
              checked={s.rule ? s.rule.autoPay : unlisted}
              disabled={busy}
              onChange={(v) => void toggle(v)}
            />
            <span class="muted small">
              {s.tokens} {s.tokens === 1 ? 'token' : 'tokens'} held
            </span>
          </div>
        </div>
      )}
    </section>
  );
}

function RecentPayments() {
  const payments = useApi('listPayments', { limit: 5 });
  return (
    <section class="card" aria-labelledby="recent-h">
      <div class="card-title">
        <h2 id="recent-h" class="eyebrow">
          Last payments
        </h2>
        <button type="button" class="btn ghost small" onClick={() => openOptions('#ledger')}>
          All payments →
        </button>
      </div>
      {payments.error && <Banner kind="error">{payments.error}</Banner>}
      {payments.data && payments.data.length === 0 && <p class="empty">No payments yet.</p>}
      {payments.data && payments.data.length > 0 && (
        <ul class="list" data-testid="recent-payments">
          {payments.data.map((p) => (
            <li key={p.paymentHash} title={p.memo ?? p.url}>
              <SiteIcon origin={p.origin} />
              <div class="grow">
                <div class="site-host">{hostOf(p.origin)}</div>
                <div class="muted small">
                  {shortTime(p.createdAt)} · {SCHEME_NAMES[p.kind] ?? p.kind} · fee{' '}
                  {p.feeMsat === null ? '—' : sats(p.feeMsat)} sats
                </div>
              </div>
              <div style="text-align:right">
                <div class="num" style="font-weight:650">
                  {sats(p.amountMsat)} <span class="muted small">sats</span>
                </div>
                <StatusPill status={p.status} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function App() {
  const wallet = useApi('getWalletStatus', {});
  const overview = useApi('getOverview', {});
  const [site, setSite] = useState<ActiveSite | null | undefined>(undefined);
  useEffect(() => {
    activeSite().then(setSite, () => setSite(null));
  }, []);

  return (
    <main class="popup stack">
      <header class="row between">
        <Brand />
        <button type="button" class="btn ghost small" onClick={() => openOptions()} aria-label="Open settings">
          <svg
            width="16"
            height="16"
            viewBox="0 0 24 24"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
          >
            <circle cx="12" cy="12" r="3" />
            <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1Z" />
          </svg>
          Settings
        </button>
      </header>

      {wallet.error ? (
        // The wallet call failing (not the wallet: that comes back as a status) means the background is not
        // answering at all: one clear message instead of an error in every card.
        <Banner kind="error">
          <strong>L402 Autopilot is not responding.</strong> {wallet.error}{' '}
          <button type="button" class="btn small" onClick={() => location.reload()}>
            Try again
          </button>
        </Banner>
      ) : (
        <>
          <section class="card" aria-label="Wallet">
            {!wallet.data && <Spinner label="Loading wallet" />}
            {wallet.data && <WalletSummary status={wallet.data} compact />}
            {overview.data && (
              <>
                <hr class="divider" />
                <Meter
                  label="Spent today"
                  valueMsat={overview.data.spentTodayMsat}
                  maxMsat={overview.data.dailyCapMsat}
                />
              </>
            )}
            {overview.error && <Banner kind="error">{overview.error}</Banner>}
          </section>

          {site && <SiteCard site={site} />}
          <RecentPayments />
        </>
      )}
    </main>
  );
}

render(<App />, document.getElementById('app')!);
