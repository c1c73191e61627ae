// Who sent a message, from the browser's `sender` only (docs/design.md#secure): pages never name their own origin.
import type browser from 'webextension-polyfill';
import type { Wallet } from '../../wallet/wallet.ts';
import { WalletError } from '../../wallet/wallet.ts';
import { ChannelError, createClient } from '../messaging/channel.ts';
import type { Envelope } from '../messaging/protocol.ts';
import { tabResultChecks } from '../messaging/schema.ts';
import type { PageCtx } from './page-handlers.ts';

/** The page context of a message from our bridge in a top-level http(s) page; null for anything else. */
export function senderContext(sender: browser.Runtime.MessageSender, runtimeId: string): PageCtx | null {
  if (sender.id !== runtimeId || !sender.tab || sender.tab.id === undefined || sender.frameId !== 0) return null;
  const raw = (sender as { origin?: string }).origin ?? sender.url;
  if (!raw) return null;
  let origin: string;
  try {
    origin = new URL(raw).origin;
  } catch {
    return null;
  }
  if (!/^https?:\/\//.test(origin)) return null;
  return { pageOrigin: origin, tabId: sender.tab.id };
}

/** UiApi only from the extension's own pages (a content script's sender.url is the web page's URL). */
export function uiSenderOk(sender: browser.Runtime.MessageSender, runtimeId: string, extensionBase: string): boolean {
  return sender.id === runtimeId && typeof sender.url === 'string' && sender.url.startsWith(extensionBase);
}

/**
 * Wallet kind 'webln': pays through the WebLN provider of the page whose request is being paid (another
 * wallet extension), via TabApi. The page's answer is untrusted (it can forge one): the tab client checks it with
 * `tabResultChecks`, and the payer verifies the preimage like any other.
 */
export function pageWallet(send: (tabId: number, msg: Envelope) => Promise<unknown>, tab: () => number): Wallet {
  return {
    async payInvoice(paymentRequest) {
      const tabId = tab();
      if (tabId < 0) throw new WalletError('unreachable', 'no page with a WebLN wallet to pay through');
      const page = createClient(
        'tab',
        async (env) => {
          const r = await send(tabId, env);
          if (!r) throw new WalletError('unreachable', 'the page did not answer');
          return r;
        },
        tabResultChecks,
      );
      try {
        const { preimage } = await page('weblnPayViaPage', { paymentRequest });
        return { preimage, feeMsat: null };
      } catch (e) {
        // The page refused, or answered something malformed: nothing says it paid.
        if (e instanceof ChannelError) throw new WalletError('payment_failed', e.message);
        throw e;
      }
    },
  };
}
