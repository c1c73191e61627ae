// Tokens held: each paid L402 token, where it is sent, until when; revoking forgets it (the next request 402s).
import { useState } from 'preact/hooks';
import type { StoredToken } from '../../model/model.ts';
import { call, errorText } from '../common/api.ts';
import { Banner, SiteIcon, Spinner } from '../common/components.tsx';
import { fullTime, hostOf, relative } from '../common/format.ts';
import { useApi } from '../common/use-api.ts';

function Expiry({ t, now }: { t: StoredToken; now: number }) {
  if (t.validUntil === null) return <span class="pill plain">No expiry</span>;
  if (t.validUntil <= now) return <span class="pill danger">Expired</span>;
  return (
    <span class="pill ok" title={fullTime(t.validUntil)}>
      Expires {relative(t.validUntil, now)}
    </span>
  );
}

export function Tokens() {
  const tokens = useApi('listTokens', {});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const now = Date.now();

  async function revoke(t: StoredToken) {
    setBusy(t.paymentHash);
    try {
      await call('revokeToken', { paymentHash: t.paymentHash });
      setError(null);
      await tokens.reload();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section class="card stack" aria-labelledby="tokens-h">
      <div>
        <h2 id="tokens-h" class="sr-only">
          Tokens held
        </h2>
        <p class="muted small">
          A token is what you bought: the site accepts it instead of a new payment until it expires. Revoking forgets it
          here; the next request to that site asks for a payment again.
        </p>
      </div>
      {(tokens.error || error) && <Banner kind="error">{tokens.error ?? error}</Banner>}
      {!tokens.data && !tokens.error && <Spinner />}
      {tokens.data && tokens.data.length === 0 && <p class="empty">No tokens yet.</p>}
      {tokens.data && tokens.data.length > 0 && (
        <table data-testid="tokens-table">
          <thead>
            <tr>
              <th>Site</th>
              <th>Sent with</th>
              <th>Valid</th>
              <th>Bought</th>
              <th>
                <span class="sr-only">Revoke</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={t.paymentHash}>
                <td>
                  <span class="row">
                    <SiteIcon origin={t.origin} />
                    <span class="ellipsis" title={t.origin}>
                      {hostOf(t.origin)}
                    </span>
                  </span>
                </td>
                <td class="mono">{t.pathPrefix || '/'}</td>
                <td>
                  <Expiry t={t} now={now} />
                </td>
                <td class="muted num">{fullTime(t.createdAt)}</td>
                <td class="right">
                  <button
                    type="button"
                    class="btn danger small"
                    disabled={busy === t.paymentHash}
                    aria-label={`Revoke token for ${hostOf(t.origin)}${t.pathPrefix}`}
                    onClick={() => void revoke(t)}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
