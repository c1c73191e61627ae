// CSS side-effect imports and other Vite asset types for the UI entry points.
/// <reference types="vite/client" />
