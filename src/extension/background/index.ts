// Background entry: registers listeners only (filled in by the extension-core issue).
import browser from 'webextension-polyfill';

browser.runtime.onInstalled.addListener(() => {
  /* first-run onboarding is opened here once the UI exists */
});
