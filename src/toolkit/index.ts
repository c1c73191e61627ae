// l402-autopilot/toolkit: an L402-aware fetch over any WebLN wallet (docs/design.md#the-page-toolkit). No extension, no Node APIs.
export type { PaymentLookup, PaymentResult, Wallet, WalletErrorCode, WalletInfo } from '../wallet/wallet.ts';
export { WalletError } from '../wallet/wallet.ts';
export { type PayInvoiceLike, payInvoiceWallet, toWallet, type WalletLike, weblnWallet } from '../wallet/webln.ts';
export { isL402FetchError, L402FetchError, type L402FetchErrorCode } from './errors.ts';
export {
  type ChallengeInfo,
  type FetchWithL402Options,
  fetchWithL402,
  type L402FetchOptions,
  wrapFetch,
} from './fetch-with-l402.ts';
export {
  findToken,
  indexedDbTokenStore,
  isL402Token,
  type L402Token,
  localStorageTokenStore,
  memoryTokenStore,
  type PendingPayment,
  readL402Token,
  type StorageLike,
  type TokenStore,
} from './token-store.ts';
export {
  encodeF32Batch,
  F32_BATCH_CONTENT_TYPE,
  F32_BATCH_HEADER_BYTES,
  F32_BATCH_MAGIC,
  F32_BATCH_VERSION,
  type F32BatchInput,
  f32BatchBytes,
} from './f32-batch.ts';
