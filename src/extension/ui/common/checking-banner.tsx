// "A payment is being checked": shown by the prompt and the popup while a payment to or caused by a site is open
// (pending, or unknown after a timeout or a worker restart). Nothing more is paid for its scope until the wallet
// tells (docs/security-payments.md), so the user should know why a page is waiting.
import { useEffect, useState } from 'preact/hooks';
import type { PaymentRecord } from '../../model/model.ts';
import { call } from './api.ts';
import { Banner } from './components.tsx';
import { hostOf, sats } from './format.ts';

const POLL_MS = 1_500;

/** Open payments whose service or paying page is `origin`, re-read while shown. */
function useOpenPayments(origin: string): PaymentRecord[] {
  const [open, setOpen] = useState<PaymentRecord[]>([]);
  useEffect(() => {
    let live = true;
    const read = async () => {
      const all = await call('listPayments', { limit: 200 }).catch(() => null);
      if (!live || !all) return;
      setOpen(
        all.filter(
          (p) => (p.status === 'pending' || p.status === 'unknown') && (p.origin === origin || p.initiator === origin),
        ),
      );
    };
    void read();
    const t = setInterval(() => void read(), POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [origin]);
  return open;
}

export function CheckingBanner({ origin }: { origin: string }) {
  const open = useOpenPayments(origin);
  if (open.length === 0) return null;
  const msat = open.reduce((n, p) => n + p.amountMsat, 0);
  const hosts = [...new Set(open.map((p) => hostOf(p.origin)))].join(', ');
  return (
    <div data-testid="payment-checking">
      <Banner kind="warn">
        <strong>A payment is being checked.</strong> {open.length === 1 ? 'A payment' : `${open.length} payments`} of{' '}
        {sats(msat)} sats to {hosts} {open.length === 1 ? 'has' : 'have'} no final answer from your wallet yet. Nothing
        more is paid for {open.length === 1 ? 'it' : 'them'} until the wallet tells; its amount stays reserved.
      </Banner>
    </div>
  );
}
