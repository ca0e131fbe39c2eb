/**
 * What crosses between page and worker by transfer rather than by structured clone. Both sides
 * use it: values going to the worker, values coming back.
 */

/**
 * Buffers under this size are copied by structured clone: a CPU profile of single puts showed
 * that cheaper than transferring (detaching) them.
 */
export const TRANSFER_MIN_BYTES = 4096;

/** The buffers under `values` worth transferring, each once (a scan's values can be views into one buffer). */
export function transferableBuffers(values: readonly (Uint8Array | undefined)[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const value of values) if (value && value.buffer.byteLength >= TRANSFER_MIN_BYTES) buffers.add(value.buffer as ArrayBuffer);
  return [...buffers];
}
