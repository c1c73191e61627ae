// Minimal types for the `macaroon` package (3.x), which ships none. Only what src/l402 uses.
declare module 'macaroon' {
  export interface Macaroon {
    readonly identifier: Uint8Array;
    readonly location: string;
    readonly signature: Uint8Array;
    readonly caveats: ReadonlyArray<{ identifier: Uint8Array; location?: string; vid?: Uint8Array }>;
    addFirstPartyCaveat(caveatId: string | Uint8Array): void;
    verify(rootKey: Uint8Array, check: (condition: string) => string | null | undefined, discharges?: Macaroon[]): void;
    exportBinary(): Uint8Array;
    clone(): Macaroon;
  }
  export function newMacaroon(params: {
    identifier: Uint8Array | string;
    location?: string;
    rootKey: Uint8Array | string;
    version?: 1 | 2;
  }): Macaroon;
  export function importMacaroon(data: Uint8Array | string): Macaroon;
  export function bytesToBase64(bytes: Uint8Array): string;
  export function base64ToBytes(s: string): Uint8Array;
}
