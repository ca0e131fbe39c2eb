/**
 * Is `actual` indistinguishable from `expected` (a `structuredClone` of what was stored)? The
 * comparison the value tests share, in Node and in the browser: same types and prototypes, the
 * same own enumerable properties in the same order, `-0` and `NaN`, holes, boxed primitives,
 * Errors (prototype, message, stack, cause), the same sharing of objects (a shared reference or
 * a cycle on one side is one on the other), and for binary the same `byteOffset`, `byteLength`,
 * `buffer.byteLength` and bytes, views that share a buffer sharing one; Blobs and Files by
 * size, type, name, lastModified and bytes.
 *
 * @returns Where and how they differ, or undefined when they do not.
 */
/**
 * What the comparison checks beyond the defaults. `errorStack: false` skips Errors' `stack`:
 * Firefox's structured clone carries the stack an Error was created with and ignores one set on
 * it, so an Error re-created in the worker reaches the page with the worker's stack (README,
 * "Keys and values").
 */
export const compareOptions = { errorStack: true };

export async function differenceFromClone(actual: unknown, expected: unknown): Promise<string | undefined> {
  const pairs = new Map<object, object>();
  const reverse = new Map<object, object>();
  const blobs: [Blob, Blob, string][] = [];
  const tag = (v: object) => Object.prototype.toString.call(v);

  function compare(a: unknown, e: unknown, path: string): string | undefined {
    if (typeof a !== typeof e) return `${path}: ${typeof a} instead of ${typeof e}`;
    if (typeof e !== 'object' || e === null || a === null) return Object.is(a, e) ? undefined : `${path}: ${String(a)} instead of ${String(e)}`;
    const ao = a as object;
    const eo = e as object;
    const known = pairs.get(ao);
    if (known !== undefined || reverse.has(eo)) return known === eo && reverse.get(eo) === ao ? undefined : `${path}: the sharing of objects differs`;
    pairs.set(ao, eo);
    reverse.set(eo, ao);
    if (Object.getPrototypeOf(ao) !== Object.getPrototypeOf(eo)) return `${path}: prototype ${tag(ao)} instead of ${tag(eo)}`;
    if (tag(ao) !== tag(eo)) return `${path}: ${tag(ao)} instead of ${tag(eo)}`;
    if (ArrayBuffer.isView(eo)) {
      const av = ao as ArrayBufferView;
      const ev = eo as ArrayBufferView;
      if (av.byteOffset !== ev.byteOffset || av.byteLength !== ev.byteLength) return `${path}: view at ${av.byteOffset}+${av.byteLength} instead of ${ev.byteOffset}+${ev.byteLength}`;
      return compare(av.buffer, ev.buffer, `${path}.buffer`);
    }
    if (eo instanceof ArrayBuffer) {
      const ab = ao as ArrayBuffer;
      if (ab.byteLength !== eo.byteLength || ab.resizable !== eo.resizable || ab.maxByteLength !== eo.maxByteLength) return `${path}: buffer of ${ab.byteLength} (max ${ab.maxByteLength}) instead of ${eo.byteLength} (max ${eo.maxByteLength})`;
      const x = new Uint8Array(ab);
      const y = new Uint8Array(eo);
      for (let i = 0; i < y.length; i++) if (x[i] !== y[i]) return `${path}: byte ${i} differs`;
      return undefined;
    }
    if (eo instanceof Date) return Object.is((ao as Date).getTime(), eo.getTime()) ? undefined : `${path}: date ${(ao as Date).getTime()} instead of ${eo.getTime()}`;
    if (eo instanceof RegExp) {
      const ar = ao as RegExp;
      return ar.source === eo.source && ar.flags === eo.flags && ar.lastIndex === eo.lastIndex ? undefined : `${path}: ${String(ar)} instead of ${String(eo)}`;
    }
    if (eo instanceof Boolean || eo instanceof Number || eo instanceof String || eo instanceof BigInt) {
      return Object.is((ao as Number).valueOf(), eo.valueOf()) ? undefined : `${path}: boxed ${String(ao)} instead of ${String(eo)}`;
    }
    if (typeof Blob !== 'undefined' && eo instanceof Blob) {
      const ab = ao as Blob;
      if (ab.size !== eo.size || ab.type !== eo.type) return `${path}: Blob of ${ab.size} ${ab.type} instead of ${eo.size} ${eo.type}`;
      if (typeof File !== 'undefined' && eo instanceof File && ((ao as File).name !== eo.name || (ao as File).lastModified !== eo.lastModified)) return `${path}: File ${(ao as File).name}@${(ao as File).lastModified} instead of ${eo.name}@${eo.lastModified}`;
      blobs.push([ab, eo, path]);
      return undefined;
    }
    if (eo instanceof Map || eo instanceof Set) {
      const am = [...(ao as Map<unknown, unknown>).entries()];
      const em = [...eo.entries()];
      if (am.length !== em.length) return `${path}: ${am.length} entries instead of ${em.length}`;
      for (let i = 0; i < em.length; i++) {
        const d = compare(am[i]![0], em[i]![0], `${path}<key ${i}>`) ?? compare(am[i]![1], em[i]![1], `${path}<value ${i}>`);
        if (d) return d;
      }
      return undefined;
    }
    if (typeof DOMException !== 'undefined' && eo instanceof DOMException) {
      const ad = ao as DOMException;
      return ad.name === eo.name && ad.message === eo.message && ad.code === eo.code && ad.stack === eo.stack ? undefined : `${path}: DOMException ${ad.name}: ${ad.message} instead of ${eo.name}: ${eo.message}`;
    }
    const geometry = ['DOMPointReadOnly', 'DOMRectReadOnly', 'DOMQuad', 'DOMMatrixReadOnly'].find((n) => typeof (globalThis as Record<string, unknown>)[n] === 'function' && eo instanceof ((globalThis as Record<string, unknown>)[n] as new () => object));
    if (geometry) {
      const json = (v: object) => JSON.stringify((v as { toJSON(): unknown }).toJSON(), (_k, n) => (Object.is(n, -0) ? '-0' : Number.isNaN(n) ? 'NaN' : n));
      return json(ao) === json(eo) ? undefined : `${path}: ${geometry} ${json(ao)} instead of ${json(eo)}`;
    }
    if (typeof ImageData !== 'undefined' && eo instanceof ImageData) {
      const ai = ao as ImageData;
      if (ai.width !== eo.width || ai.height !== eo.height || ai.colorSpace !== eo.colorSpace) return `${path}: ImageData ${ai.width}×${ai.height} ${ai.colorSpace} instead of ${eo.width}×${eo.height} ${eo.colorSpace}`;
      return compare(ai.data, eo.data, `${path}.data`);
    }
    if (eo instanceof Error) {
      const ae = ao as Error;
      if (ae.name !== eo.name || (compareOptions.errorStack && ae.stack !== eo.stack)) return `${path}: ${ae.name} (stack ${JSON.stringify(ae.stack)}) instead of ${eo.name} (stack ${JSON.stringify(eo.stack)})`;
      const names = (o: object) => Object.getOwnPropertyNames(o).filter((k) => k !== 'stack').join();
      if (names(ae) !== names(eo)) return `${path}: own properties ${names(ae)} instead of ${names(eo)}`;
      for (const key of ['message', 'cause']) {
        const ad = Object.getOwnPropertyDescriptor(ae, key);
        const ed = Object.getOwnPropertyDescriptor(eo, key);
        if (!ed) continue;
        if (!ad || ad.enumerable !== ed.enumerable || ad.writable !== ed.writable) return `${path}.${key}: descriptor differs`;
        const d = compare(ad.value, ed.value, `${path}.${key}`);
        if (d) return d;
      }
      return undefined;
    }
    const ak = Object.keys(ao);
    const ek = Object.keys(eo);
    if (ak.join('\u0000') !== ek.join('\u0000')) return `${path}: keys [${ak.join()}] instead of [${ek.join()}]`;
    if (Array.isArray(eo) && (ao as unknown[]).length !== eo.length) return `${path}: length ${(ao as unknown[]).length} instead of ${eo.length}`;
    for (const key of ek) {
      const d = compare((ao as Record<string, unknown>)[key], (eo as Record<string, unknown>)[key], `${path}.${key}`);
      if (d) return d;
    }
    return undefined;
  }

  const difference = compare(actual, expected, 'value');
  if (difference) return difference;
  for (const [a, e, path] of blobs) {
    const [x, y] = await Promise.all([a.arrayBuffer(), e.arrayBuffer()]);
    const xb = new Uint8Array(x);
    const yb = new Uint8Array(y);
    for (let i = 0; i < yb.length; i++) if (xb[i] !== yb[i]) return `${path}: Blob byte ${i} differs`;
  }
  return undefined;
}
