/// <reference types="vite/client" />

/** abstract-level's compliance suite (CommonJS, no types of its own). */
declare module 'abstract-level/test' {
  const suite: (options: { test: unknown; factory: (options?: object) => unknown }) => void;
  export default suite;
}
