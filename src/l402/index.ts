// The protocol core: pure and isomorphic. L402, the `Payment` scheme's Lightning charge and x402's Lightning
// variant; everything in the project that reads or writes a 402 uses this.
export * from './authorization.ts';
export * from './caveats.ts';
export * from './challenge.ts';
export * from './demand.ts';
export * from './encoding.ts';
export * from './errors.ts';
export * from './identifier.ts';
export * from './invoice.ts';
export * from './macaroon.ts';
export * from './payment-scheme.ts';
export * from './preimage.ts';
export * from './recognise.ts';
export * from './validate.ts';
export * from './scope.ts';
export * from './x402.ts';
