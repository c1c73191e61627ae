// MAIN-world script, injected at document_start into every http(s) page (docs/design.md#the-extension). TINY on
// purpose: no protocol parsing, no bolt11; it wraps fetch/XHR, offers window.webln per the user's setting,
// and lets the background pay through a wallet provider already on the page.
import { createProvider } from './webln-provider.ts';
import { ChannelError } from '../messaging/channel.ts';
import { call, onTabRequest } from './port.ts';
import { addScope } from './scopes.ts';
import { wrapFetch } from './fetch-wrapper.ts';
import { wrapXhr } from './xhr-wrapper.ts';

interface PageProvider {
  enable?: () => Promise<unknown>;
  sendPayment?: (pr: string) => Promise<{ preimage?: unknown }>;
}
type WeblnWindow = Window & { webln?: PageProvider };
const w = window as WeblnWindow;

// Wrap first, synchronously: requests made by inline scripts during parsing must already go through us.
wrapFetch();
wrapXhr();

const ours = createProvider();
// A provider found here is another wallet's, never ours (we only install ours after this point).
let foreign: PageProvider | null = null;
const foreignProvider = (): PageProvider | null => {
  if (!foreign && w.webln && w.webln !== (ours as unknown)) foreign = w.webln;
  return foreign;
};

call('hello', {}).then(
  ({ webln, scopes }) => {
    for (const s of scopes) addScope(s);
    if (webln === 'off' || (webln === 'when-absent' && foreignProvider())) return;
    foreignProvider();
    try {
      Object.defineProperty(w, 'webln', { value: ours, configurable: true, writable: false });
    } catch {
      return; // another extension made it non-configurable: leave it alone
    }
    window.dispatchEvent(new Event('webln:ready'));
  },
  () => {},
);

// The background pays through the page's other WebLN wallet when the user chose wallet kind 'webln'.
onTabRequest({
  weblnPayViaPage: async ({ paymentRequest }) => {
    const p = foreignProvider();
    if (!p?.sendPayment) throw new ChannelError('no_provider', 'no WebLN wallet on this page');
    await p.enable?.();
    const r = await p.sendPayment(paymentRequest);
    return { preimage: typeof r?.preimage === 'string' ? r.preimage : '' };
  },
});
