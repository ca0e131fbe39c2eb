/**
 * The page's check that a value can be written as bytes, run at `put` before anything is sent:
 * what it refuses is a `TypeError` naming the type and where in the value it sits. The worker
 * encodes (`format/value.ts`); this only walks, so the codec stays out of the page bundle.
 */

/** Kinds the value encoding writes, by `Object.prototype.toString` tag (works across realms). */
const STORABLE_TAGS = new Set([
  'Object', 'Array', 'Date', 'RegExp', 'Map', 'Set', 'Error', 'Boolean', 'Number', 'String', 'BigInt', 'Blob', 'File',
  'ArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',
  'Uint32Array', 'Float16Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
  'DOMException', 'DOMPoint', 'DOMPointReadOnly', 'DOMRect', 'DOMRectReadOnly', 'DOMQuad', 'DOMMatrix', 'DOMMatrixReadOnly', 'ImageData',
]);

const tagOf = (value: object) => Object.prototype.toString.call(value).slice(8, -1);

function check(value: unknown, path: string, seen: Set<object>): void {
  if (typeof value === 'function' || typeof value === 'symbol') throw new TypeError(`value${path} is a ${typeof value}, which cannot be stored`);
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const tag = tagOf(value);
  if (!STORABLE_TAGS.has(tag)) throw new TypeError(`value${path} is ${tag}, which cannot be stored (it cannot be written as bytes)`);
  if (ArrayBuffer.isView(value) && tagOf(value.buffer) !== 'ArrayBuffer') throw new TypeError(`value${path} is a view of a ${tagOf(value.buffer)}, which cannot be stored`);
  if (tag === 'Map') {
    for (const [k, v] of value as Map<unknown, unknown>) {
      check(k, `${path}<key>`, seen);
      check(v, `${path}.get(…)`, seen);
    }
  } else if (tag === 'Set') {
    for (const v of value as Set<unknown>) check(v, `${path}<item>`, seen);
  } else if (tag === 'Error') {
    const cause = Object.getOwnPropertyDescriptor(value, 'cause');
    if (cause && 'value' in cause) check(cause.value, `${path}.cause`, seen);
  } else if (tag === 'Object' || tag === 'Array') {
    for (const k of Object.keys(value)) check((value as Record<string, unknown>)[k], `${path}.${k}`, seen);
  }
}

/**
 * Throw a TypeError unless `value` is made only of what the value encoding writes: what
 * structured clone accepts, minus what cannot be written as bytes (functions, symbols, shared
 * memory, and platform objects that hold more than bytes: `CryptoKey`, `FileSystemHandle`,
 * `ImageBitmap`, `MessagePort`, …).
 */
export function assertStorable(value: unknown): void {
  check(value, '', new Set());
}
