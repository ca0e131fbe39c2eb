/**
 * CRC-32C of large buffers in WebAssembly (hash-wasm), for the worker and Node: the JavaScript
 * tables run at about a third of their speed until V8 has optimised them, and an open sums a
 * 4.5 MB snapshot index with cold code (7.5 ms in Chromium's worker here, against 2.6 ms in
 * WebAssembly). Warm, the two are close.
 */
import { createCRC32 } from 'hash-wasm';
import { CRC32C_POLYNOMIAL, useLargeBufferCrc32c } from './crc32c.js';

let installing: Promise<void> | undefined;

/**
 * Compile the WebAssembly CRC-32C (off the thread) and sum large buffers with it from then on.
 * Settles once it does, or could not (a page whose Content-Security-Policy forbids WebAssembly):
 * then the tables sum everything, with the same results. Calling it again returns the same promise.
 */
export function installWasmCrc32c(): Promise<void> {
  return (installing ??= createCRC32(CRC32C_POLYNOMIAL).then(
    (hasher) =>
      useLargeBufferCrc32c((bytes) => {
        hasher.init();
        hasher.update(bytes);
        const d = hasher.digest('binary');
        return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
      }),
    () => {},
  ));
}
