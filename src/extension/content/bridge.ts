// ISOLATED-world bridge between the page and the background (filled in by the extension-core issue).
export {};
