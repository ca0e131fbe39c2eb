/** The value encoding in Node: a worked example as golden bytes, round trips against structuredClone, refusals, damage. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeValue, encodeValue, ValueFormatError } from '../../../src/format/value.js';
import { differenceFromClone } from '../../support/clone-compare.js';
import { storableValue } from '../../support/value-arbitrary.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Node has no synchronous Blob reader: read every Blob of `value` first. */
async function blobReader(value: unknown): Promise<(blob: Blob) => Uint8Array> {
  const bytes = new Map<Blob, Uint8Array>();
  const seen = new Set<unknown>();
  const walk = async (v: unknown): Promise<void> => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (v instanceof Blob) bytes.set(v, new Uint8Array(await v.arrayBuffer()));
    else if (v instanceof Map) for (const [k, x] of v) await walk(k), await walk(x);
    else if (v instanceof Set) for (const x of v) await walk(x);
    else if (v instanceof Error) await walk((v as { cause?: unknown }).cause);
    else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) for (const x of Object.values(v)) await walk(x);
  };
  await walk(value);
  return (blob) => bytes.get(blob)!;
}

describe('value encoding', () => {
  it('encodes the worked example of docs/format.md byte for byte', () => {
    const buffer = new ArrayBuffer(4);
    new Uint8Array(buffer).set([9, 8, 7, 6]);
    const holes = [1, , -0];
    const value = { a: holes, v: new Uint8Array(buffer, 1, 2), same: holes };
    const bytes = encodeValue(value);
    expect(hex(bytes)).toBe(
      '01' + // version
        '6f03' + // object, 3 properties
        '5301' + '61' + '6103' + '02' + '5301' + '30' + '4902' + '5301' + '32' + '4e' + '0000000000000080' + // "a": array of length 3, 2 present: [0] = 1, [2] = -0
        '5301' + '76' + '56020001' + '02' + '4204' + '09080706' + // "v": view Uint8Array, fixed, offset 1, length 2, over a 4-byte buffer
        '5304' + '73616d65' + '4001', // "same": object 1 again
    );
    const back = decodeValue(bytes) as typeof value;
    expect(back.same).toBe(back.a);
    expect(1 in back.a).toBe(false);
    expect(Object.is(back.a[2], -0)).toBe(true);
    expect([back.v.byteOffset, back.v.byteLength, back.v.buffer.byteLength, [...back.v]]).toEqual([1, 2, 4, [8, 7]]);
  });

  it('gives back what structuredClone gives, for random values of every type', async () => {
    await fc.assert(
      fc.asyncProperty(storableValue({ files: false, platform: false }), async (value) => {
        const bytes = encodeValue(value, { readBlob: await blobReader(value) });
        const difference = await differenceFromClone(decodeValue(bytes), structuredClone(value));
        expect(difference).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps Errors as structured clone does: prototype by name, own message, stack and cause', async () => {
    const renamed = Object.assign(new RangeError('m'), { name: 'Custom', extra: 1 });
    for (const error of [renamed, new Error(), new SyntaxError('s', { cause: { deep: [1n] } })]) {
      expect(await differenceFromClone(decodeValue(encodeValue(error)), structuredClone(error))).toBeUndefined();
    }
    // Node 20's structuredClone cannot clone an error that is its own cause (Chromium can: the browser test covers it).
    const cyclic = new TypeError('c');
    (cyclic as { cause?: unknown }).cause = cyclic;
    const back = decodeValue(encodeValue(cyclic)) as Error;
    expect([Object.getPrototypeOf(back) === TypeError.prototype, back.message, back.cause === back, back.stack === cyclic.stack]).toEqual([true, 'c', true, true]);
  });

  it('the comparison sees every difference it claims to check', async () => {
    const buffer = new ArrayBuffer(8);
    const shared = { x: 1 };
    const cases: [unknown, unknown][] = [
      [0, -0],
      [[undefined], [,]],
      [new Uint8Array(buffer, 2, 3), new Uint8Array(new ArrayBuffer(3))],
      [new Uint8Array(buffer, 2, 3), new Uint8Array(new ArrayBuffer(8), 2, 3).fill(1)],
      [[new Uint8Array(buffer), new Uint8Array(new ArrayBuffer(8))], [new Uint8Array(buffer), new Uint8Array(buffer)]],
      [{ a: shared, b: shared }, { a: { x: 1 }, b: { x: 1 } }],
      [{ a: 1, b: 2 }, { b: 2, a: 1 }],
      [Object(1), 1],
      [new Error('m'), new TypeError('m')],
      [new Map([[1, 2]]), new Map([[2, 1]])],
      [new Blob(['a']), new Blob(['b'])],
      [new Date(1), new Date(2)],
    ];
    for (const [a, b] of cases) expect(await differenceFromClone(a, b)).toBeTypeOf('string');
  });

  it('keeps a resizable buffer and a view that tracks its length', async () => {
    const buffer = new ArrayBuffer(8, { maxByteLength: 16 });
    const value = { tracking: new Uint16Array(buffer, 2), fixed: new Uint8Array(buffer, 0, 4) };
    const back = decodeValue(encodeValue(value)) as typeof value;
    expect(await differenceFromClone(back, structuredClone(value))).toBeUndefined();
    back.tracking.buffer.resize(12);
    expect([back.tracking.length, back.fixed.length]).toEqual([5, 4]);
    expect(buffer.byteLength).toBe(8);
  });

  it('keeps Blobs with their bytes and type, and the same Blob twice as one', async () => {
    const blob = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
    const value = { photo: blob, again: blob, caption: 'x' };
    const back = decodeValue(encodeValue(value, { readBlob: await blobReader(value) })) as typeof value;
    expect(back.again).toBe(back.photo);
    expect([back.photo.type, [...new Uint8Array(await back.photo.arrayBuffer())]]).toEqual(['image/png', [1, 2, 3]]);
    const file = new File([new Uint8Array([4])], 'a.txt', { type: 'text/plain', lastModified: 42 });
    const f = decodeValue(encodeValue(file, { readBlob: await blobReader(file) })) as File;
    expect([f instanceof File, f.name, f.type, f.lastModified, f.size]).toEqual([true, 'a.txt', 'text/plain', 42, 1]);
  });

  it('refuses what cannot be written as bytes, and values over the limit', () => {
    for (const bad of [() => 1, Symbol('s'), { nested: [1, () => 2] }, new WeakMap(), new Uint8Array(new SharedArrayBuffer(4)), Promise.resolve()]) {
      expect(() => encodeValue(bad)).toThrow(TypeError);
    }
    expect(() => encodeValue(new Blob(['x']))).toThrow(/Blob/);
    expect(() => encodeValue(new Uint8Array(2000), { maxBytes: 1000 })).toThrow(TypeError);
    expect(encodeValue(new Uint8Array(900), { maxBytes: 1000 }).length).toBeLessThan(1000);
  });

  it('refuses damaged or foreign bytes with ValueFormatError', () => {
    const good = encodeValue({ a: [1, 2, 3], s: 'text' });
    for (const bad of [new Uint8Array(0), Uint8Array.of(2, 0x30), good.subarray(0, good.length - 1), Uint8Array.of(...good, 0), Uint8Array.of(1, 0x40, 0), Uint8Array.of(1, 0x99), Uint8Array.of(1, 0x56, 1, 0, 5, 5, 0x42, 2, 0, 0)]) {
      expect(() => decodeValue(bad)).toThrow(ValueFormatError);
    }
  });
});
