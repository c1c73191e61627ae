// MAIN-world script injected into pages (filled in by the extension-core issue).
export {};
