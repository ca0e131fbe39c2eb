/**
 * fast-check arbitraries for values built from every type the value encoding writes: views at
 * offsets into larger buffers and views sharing one buffer, holes, `-0`, boxed primitives, Errors
 * with causes, Blobs and Files, and shared references and cycles added after the tree is built.
 */
import fc from 'fast-check';

const errorTypes = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];
const viewTypes = [DataView, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;

const primitive = fc.oneof(
  fc.constantFrom(undefined, null, true, false, -0, 0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('\ud800', '\udc00', 'a', 'é', '😀') }),
);

/** A buffer with 1–3 views of random kinds at random offsets into it (so the views share it). */
const viewsOverOneBuffer = fc
  .tuple(fc.uint8Array({ minLength: 0, maxLength: 96 }), fc.array(fc.tuple(fc.nat(viewTypes.length - 1), fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }), fc.boolean())
  .map(([bytes, specs, resizable]) => {
    const buffer = resizable ? new ArrayBuffer(bytes.length, { maxByteLength: bytes.length + 32 }) : new ArrayBuffer(bytes.length);
    new Uint8Array(buffer).set(bytes);
    const views = specs.map(([kind, a, b]) => {
      const View = viewTypes[kind]!;
      const size = 'BYTES_PER_ELEMENT' in View ? View.BYTES_PER_ELEMENT : 1;
      const offset = bytes.length === 0 ? 0 : (a % (Math.floor(bytes.length / size) + 1)) * size;
      const length = Math.floor((bytes.length - offset) / size) === 0 ? 0 : b % (Math.floor((bytes.length - offset) / size) + 1);
      return new (View as unknown as new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView)(buffer, offset, length);
    });
    return views.length === 1 ? views[0]! : views;
  });

const boxed = fc.oneof(fc.boolean().map((b) => Object(b) as object), fc.double().map((n) => Object(n) as object), fc.string().map((s) => Object(s) as object), fc.bigInt().map((n) => Object(n) as object));

const date = fc.oneof(fc.date({ noInvalidDate: true }), fc.constant(new Date(NaN)));
const regexp = fc.tuple(fc.constantFrom('a+', '^x$', '[\\d]{2}', '(?<n>z)'), fc.subarray(['g', 'i', 'm', 's', 'u', 'y'])).map(([source, flags]) => new RegExp(source, flags.join('')));

/** Blobs, and Files where structured clone keeps them (Node's turns a File into a Blob). */
const blobOrFile = (files: boolean) => fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('', 'image/png', 'text/plain'), fc.option(fc.tuple(fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 2 ** 40 })))).map(([bytes, type, file]) =>
  file && files ? new File([bytes], file[0], { type, lastModified: file[1] }) : new Blob([bytes], { type }),
);

/** Platform objects a browser clones: DOMException, and the geometry interfaces and ImageData where the runtime has them. */
const g = globalThis as unknown as Record<string, (new (...args: unknown[]) => object) | undefined>;
const platformObjects = fc.oneof(
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('Error', 'NotFoundError', 'AbortError', 'Custom')).map(([message, name]) => new DOMException(message, name) as object),
  ...(g.DOMPoint && g.DOMMatrix && g.DOMRect && g.DOMQuad && g.ImageData
    ? [
        fc.tuple(fc.nat(3), fc.array(fc.double(), { minLength: 16, maxLength: 16 }), fc.boolean()).map(([kind, n, readOnly]) => {
          const make = (name: string, ...args: unknown[]) => new g[readOnly && name !== 'DOMQuad' ? `${name}ReadOnly` : name]!(...args);
          if (kind === 0) return make('DOMPoint', n[0], n[1], n[2], n[3]);
          if (kind === 1) return make('DOMRect', n[0], n[1], n[2], n[3]);
          if (kind === 2) return make('DOMQuad', { x: n[0], y: n[1] }, { x: n[2], y: n[3], z: n[4], w: n[5] }, { x: n[6] }, { y: n[7] });
          return make('DOMMatrix', readOnly ? n.slice(0, 6) : n);
        }),
        fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom('srgb', 'display-p3')).chain(([w, h, colorSpace]) =>
          fc.uint8ClampedArray({ minLength: w * h * 4, maxLength: w * h * 4 }).map((data) => new (g.ImageData as unknown as new (d: Uint8ClampedArray, w: number, h: number, s: object) => object)(data, w, h, { colorSpace })),
        ),
      ]
    : []),
);

const treeOf = (files: boolean, platform: boolean) => fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    primitive,
    primitive,
    viewsOverOneBuffer,
    boxed,
    date,
    regexp,
    blobOrFile(files),
    ...(platform ? [platformObjects] : []),
    fc.uint8Array({ maxLength: 32 }).map((b) => b.buffer),
    fc.array(tie('value'), { maxLength: 5 }),
    // Arrays with holes and extra properties.
    fc.tuple(fc.nat(8), fc.array(fc.tuple(fc.nat(7), tie('value')), { maxLength: 4 }), fc.option(tie('value'))).map(([length, present, extra]) => {
      const array: unknown[] = new Array(length);
      for (const [i, v] of present) if (i < length) array[i] = v;
      if (extra !== null) (array as unknown as Record<string, unknown>).extra = extra;
      return array;
    }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.nat(20).map(String)), tie('value'), { maxKeys: 5 }),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    // The stack is set, so that the same seed gives the same error wherever it is generated.
    fc.tuple(fc.nat(errorTypes.length - 1), fc.option(fc.string({ maxLength: 12 })), fc.option(tie('value'), { freq: 3 }), fc.string({ maxLength: 20 })).map(([kind, message, cause, stack]) => {
      const Ctor = errorTypes[kind]!;
      const error = cause === null ? (message === null ? new Ctor() : new Ctor(message)) : new Ctor(message ?? undefined, { cause });
      error.stack = `${Ctor.name}: ${stack}`;
      return error;
    }),
  ),
})).value;

function containers(value: unknown, out: object[], seen = new Set<object>()): object[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return out;
  seen.add(value);
  if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
    out.push(value);
    for (const v of Object.values(value)) containers(v, out, seen);
  } else if (value instanceof Map) {
    out.push(value);
    for (const [k, v] of value) containers(k, out, seen), containers(v, out, seen);
  } else if (value instanceof Set) for (const v of value) containers(v, out, seen);
  else if (value instanceof Error) containers((value as { cause?: unknown }).cause, out, seen);
  return out;
}

/**
 * Any storable value: a tree, then a few links that make some objects shared and some cyclic
 * (a link from a container to another, itself included).
 */
export const storableValue = (options: { files: boolean; platform: boolean }): fc.Arbitrary<unknown> => fc.tuple(treeOf(options.files, options.platform), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 3 })).map(([value, links]) => {
  const all = containers(value, []);
  links.forEach(([from, to], i) => {
    if (all.length === 0) return;
    const source = all[from % all.length]!;
    const target = all[to % all.length]!;
    if (source instanceof Map) source.set(`link${i}`, target);
    else (source as Record<string, unknown>)[`link${i}`] = target;
  });
  return value;
});
