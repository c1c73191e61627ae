// The L402 protocol core: pure and isomorphic. Everything in the project that reads or writes L402 uses this.
export * from './authorization.ts';
export * from './caveats.ts';
export * from './challenge.ts';
export * from './encoding.ts';
export * from './errors.ts';
export * from './identifier.ts';
export * from './invoice.ts';
export * from './macaroon.ts';
export * from './preimage.ts';
export * from './recognise.ts';
export * from './validate.ts';
export * from './scope.ts';
