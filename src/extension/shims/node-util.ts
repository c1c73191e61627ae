// The `macaroon` package takes TextEncoder/TextDecoder from `window`, else from Node's `util`. A service
// worker has no `window`, and Vite externalises `util` to an empty module, so the background crashed at
// start ("TextEncoder is not a constructor"). vite.config.ts aliases `util` to this module for the
// extension build: the web platform's encoders are what `util` would have given.
export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export default { TextEncoder, TextDecoder };
