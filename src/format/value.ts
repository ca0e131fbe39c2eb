/**
 * The value encoding: a structured-clone value to bytes and back, so that what a reader gets is
 * indistinguishable from `structuredClone(value)`: types and prototypes, property order, `-0`,
 * holes, boxed primitives, Errors, shared references and cycles, buffers with the views over them
 * (same offsets, one buffer for views that shared one), Blobs and Files. The grammar is in
 * `docs/format.md` ("Values"). The worker runs it; the engine stores its output as opaque bytes.
 */
import { readVarint, writeVarint } from './bytes.js';

/** The first byte of every encoded value. */
export const VALUE_FORMAT_VERSION = 1;

// One byte per item kind; ASCII letters so that a hex dump reads.
const T_UNDEFINED = 0x5f; // _
const T_NULL = 0x30; // 0
const T_TRUE = 0x54; // T
const T_FALSE = 0x46; // F
const T_INT = 0x49; // I  zigzag varint, for int32 values
const T_DOUBLE = 0x4e; // N  f64
const T_BIGINT = 0x5a; // Z
const T_STRING = 0x53; // S  UTF-8
const T_STRING16 = 0x57; // W  UTF-16 code units (a string with a lone surrogate)
const T_REF = 0x40; // @  an object met before, by its number
const T_OBJECT = 0x6f; // o
const T_DENSE_ARRAY = 0x41; // A  every index present, nothing else
const T_ARRAY = 0x61; // a  holes or extra properties
const T_DATE = 0x44; // D
const T_REGEXP = 0x52; // R
const T_BOOLEAN_OBJECT = 0x62; // b
const T_NUMBER_OBJECT = 0x6e; // n
const T_STRING_OBJECT = 0x73; // s
const T_BIGINT_OBJECT = 0x7a; // z
const T_MAP = 0x6d; // m
const T_SET = 0x65; // e
const T_ERROR = 0x45; // E
const T_ARRAY_BUFFER = 0x42; // B
const T_RESIZABLE_BUFFER = 0x72; // r
const T_VIEW = 0x56; // V
const T_BLOB = 0x4c; // L
const T_FILE = 0x66; // f
const T_DOM_EXCEPTION = 0x58; // X
const T_GEOMETRY = 0x47; // G  DOMPoint, DOMRect, DOMQuad, DOMMatrix and their read-only kinds
const T_IMAGE_DATA = 0x50; // P

/** The geometry interfaces by number, where the runtime has them (browsers: window and workers). */
const GEOMETRY_KINDS = ['DOMPoint', 'DOMPointReadOnly', 'DOMRect', 'DOMRectReadOnly', 'DOMQuad', 'DOMMatrix', 'DOMMatrixReadOnly'] as const;
type GeometryKind = (typeof GEOMETRY_KINDS)[number];
const platform = globalThis as unknown as Record<string, (new (...args: never[]) => object) | undefined>;
/** The geometry kind of `value`, most derived first (a DOMPoint is also a DOMPointReadOnly). */
function geometryKind(value: object): number {
  for (const kind of ['DOMPoint', 'DOMRect', 'DOMMatrix', 'DOMPointReadOnly', 'DOMRectReadOnly', 'DOMMatrixReadOnly', 'DOMQuad'] as GeometryKind[]) {
    const Ctor = platform[kind];
    if (Ctor && value instanceof Ctor) return GEOMETRY_KINDS.indexOf(kind);
  }
  return -1;
}

/** Error prototypes structured clone keeps; any other error comes back as `Error`. */
const ERROR_NAMES = ['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError'] as const;
const ERROR_HAS_MESSAGE = 1;
const ERROR_HAS_STACK = 2;
const ERROR_HAS_CAUSE = 4;

type ViewConstructor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): ArrayBufferView; readonly name: string };
const float16 = (globalThis as { Float16Array?: ViewConstructor }).Float16Array;
/** View kinds by number; 0 is DataView, whose length counts bytes. */
const VIEW_KINDS: (ViewConstructor | undefined)[] = [
  DataView as unknown as ViewConstructor, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, float16,
];
const VIEW_KIND_OF = new Map<string, number>(VIEW_KINDS.flatMap((c, i) => (c ? [[c.name, i] as [string, number]] : [])));

/** How the encoder gets a Blob's bytes synchronously (`FileReaderSync` in a worker). */
export type BlobReader = (blob: Blob) => Uint8Array;

/** Options of {@link encodeValue}. */
export interface EncodeOptions {
  /** Reads a Blob's bytes; without it a value holding a Blob is refused. */
  readBlob?: BlobReader;
  /** Refuse the value (a `TypeError`) once its encoding would pass this many bytes. */
  maxBytes?: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Room beyond a value's own bytes for its tags and lengths, when the value is one buffer or view. */
const BYTES_VALUE_SLACK = 64;

class Writer {
  bytes: Uint8Array;
  view: DataView;
  at = 0;
  /** @param capacity The first buffer's size (a good guess saves growing and copying a large value). */
  constructor(
    readonly maxBytes: number,
    capacity = 256,
  ) {
    this.bytes = new Uint8Array(Math.min(capacity, Math.max(256, maxBytes)));
    this.view = new DataView(this.bytes.buffer);
  }

  reserve(n: number): void {
    const need = this.at + n;
    if (need <= this.bytes.length) return;
    if (need > this.maxBytes) throw new TypeError(`value is more than ${this.maxBytes} bytes encoded; the limit is ${this.maxBytes}`);
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, Math.max(need, this.maxBytes)));
    grown.set(this.bytes.subarray(0, this.at));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.at++] = b;
  }
  varint(n: number): void {
    this.reserve(8);
    this.at = writeVarint(this.bytes, this.at, n);
  }
  f64(n: number): void {
    this.reserve(8);
    this.view.setFloat64(this.at, n, true);
    this.at += 8;
  }
  raw(source: Uint8Array): void {
    this.reserve(source.length);
    this.bytes.set(source, this.at);
    this.at += source.length;
  }
  string(s: string): void {
    const n = s.length;
    this.reserve(6 + n);
    const start = this.at;
    this.bytes[this.at++] = T_STRING;
    this.varint(n);
    // Most keys and many values are ASCII: written in place, no TextEncoder call.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.at = start;
        return this.#wideString(s);
      }
      this.bytes[this.at++] = c;
    }
  }
  #wideString(s: string): void {
    if (s.isWellFormed()) {
      const encoded = utf8Encoder.encode(s);
      this.byte(T_STRING);
      this.varint(encoded.length);
      this.raw(encoded);
      return;
    }
    this.byte(T_STRING16);
    this.varint(s.length);
    this.reserve(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      this.view.setUint16(this.at, s.charCodeAt(i), true);
      this.at += 2;
    }
  }
  bigint(n: bigint): void {
    const negative = n < 0n;
    let magnitude = negative ? -n : n;
    const digits: number[] = [];
    while (magnitude > 0n) {
      digits.push(Number(magnitude & 0xffn));
      magnitude >>= 8n;
    }
    this.byte(negative ? 1 : 0);
    this.varint(digits.length);
    this.raw(Uint8Array.from(digits));
  }
}

/** What a view's length is, and whether it follows its resizable buffer's length. */
function isLengthTracking(view: ArrayBufferView): boolean {
  const buffer = view.buffer as ArrayBuffer;
  if (!buffer.resizable || buffer.byteLength >= buffer.maxByteLength) return false;
  // The worker owns this copy (it arrived by postMessage): growing it for a moment is safe.
  const before = view.byteLength;
  const length = buffer.byteLength;
  buffer.resize(Math.min(buffer.maxByteLength, length + 8));
  const tracking = view.byteLength !== before;
  buffer.resize(length);
  return tracking;
}

function describe(value: object): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

class Encoder {
  readonly out: Writer;
  readonly #ids = new Map<object, number>();
  constructor(
    readonly options: EncodeOptions,
    capacity?: number,
  ) {
    this.out = new Writer(options.maxBytes ?? Number.MAX_SAFE_INTEGER, capacity);
  }

  item(value: unknown): void {
    const out = this.out;
    switch (typeof value) {
      case 'undefined':
        return out.byte(T_UNDEFINED);
      case 'boolean':
        return out.byte(value ? T_TRUE : T_FALSE);
      case 'number':
        if ((value | 0) === value && !Object.is(value, -0)) {
          out.byte(T_INT);
          return out.varint(((value << 1) ^ (value >> 31)) >>> 0);
        }
        out.byte(T_DOUBLE);
        return out.f64(value);
      case 'string':
        return out.string(value);
      case 'bigint':
        out.byte(T_BIGINT);
        return out.bigint(value);
      case 'function':
      case 'symbol':
        throw new TypeError(`a ${typeof value} cannot be stored`);
    }
    if (value === null) return out.byte(T_NULL);
    const seen = this.#ids.get(value as object);
    if (seen !== undefined) {
      out.byte(T_REF);
      return out.varint(seen);
    }
    this.#ids.set(value as object, this.#ids.size);
    this.#object(value as object);
  }

  #object(value: object): void {
    const out = this.out;
    if (Array.isArray(value)) return this.#array(value);
    if (ArrayBuffer.isView(value)) return this.#view(value);
    if (value instanceof ArrayBuffer) return this.#buffer(value);
    if (value instanceof Date) {
      out.byte(T_DATE);
      return out.f64(value.getTime());
    }
    if (value instanceof RegExp) {
      out.byte(T_REGEXP);
      out.string(value.source);
      return out.string(value.flags);
    }
    if (value instanceof Map) {
      out.byte(T_MAP);
      out.varint(value.size);
      for (const [k, v] of value) {
        this.item(k);
        this.item(v);
      }
      return;
    }
    if (value instanceof Set) {
      out.byte(T_SET);
      out.varint(value.size);
      for (const v of value) this.item(v);
      return;
    }
    // A DOMException is also an Error in browsers: its own kind first.
    if (typeof DOMException !== 'undefined' && value instanceof DOMException) {
      out.byte(T_DOM_EXCEPTION);
      out.string(value.message);
      return out.string(value.name);
    }
    if (value instanceof Error) return this.#error(value);
    if (value instanceof Boolean) return out.byte(T_BOOLEAN_OBJECT), out.byte(value.valueOf() ? 1 : 0);
    if (value instanceof Number) return out.byte(T_NUMBER_OBJECT), out.f64(value.valueOf());
    if (value instanceof String) return out.byte(T_STRING_OBJECT), out.string(value.valueOf());
    if (value instanceof BigInt) return out.byte(T_BIGINT_OBJECT), out.bigint(value.valueOf() as bigint);
    if (typeof Blob !== 'undefined' && value instanceof Blob) return this.#blob(value);
    const geometry = geometryKind(value);
    if (geometry >= 0) return this.#geometry(geometry, value);
    if (platform.ImageData && value instanceof platform.ImageData) return this.#imageData(value as ImageData);
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null && describe(value) !== 'Object') throw new TypeError(`${describe(value)} cannot be stored`);
    const keys = Object.keys(value);
    out.byte(T_OBJECT);
    out.varint(keys.length);
    for (const key of keys) {
      out.string(key);
      this.item((value as Record<string, unknown>)[key]);
    }
  }

  #array(value: unknown[]): void {
    const out = this.out;
    const keys = Object.keys(value);
    const n = value.length;
    // Index keys come first, ascending: all n present and nothing else iff the last is n - 1.
    if (keys.length === n && (n === 0 || keys[n - 1] === String(n - 1))) {
      out.byte(T_DENSE_ARRAY);
      out.varint(n);
      for (let i = 0; i < n; i++) this.item(value[i]);
      return;
    }
    out.byte(T_ARRAY);
    out.varint(n);
    out.varint(keys.length);
    for (const key of keys) {
      out.string(key);
      this.item((value as unknown as Record<string, unknown>)[key]);
    }
  }

  #buffer(value: ArrayBuffer): void {
    const out = this.out;
    if (value.resizable) {
      out.byte(T_RESIZABLE_BUFFER);
      out.varint(value.byteLength);
      out.varint(value.maxByteLength);
    } else {
      out.byte(T_ARRAY_BUFFER);
      out.varint(value.byteLength);
    }
    out.raw(new Uint8Array(value));
  }

  #view(value: ArrayBufferView): void {
    const out = this.out;
    const kind = value instanceof DataView ? 0 : VIEW_KIND_OF.get(describe(value));
    if (kind === undefined) throw new TypeError(`${describe(value)} cannot be stored`);
    if (!(value.buffer instanceof ArrayBuffer)) throw new TypeError(`a view of a ${describe(value.buffer)} cannot be stored`);
    const tracking = isLengthTracking(value);
    out.byte(T_VIEW);
    out.byte(kind);
    out.byte(tracking ? 1 : 0);
    out.varint(value.byteOffset);
    out.varint(tracking ? 0 : kind === 0 ? value.byteLength : (value as Uint8Array).length);
    this.item(value.buffer);
  }

  #error(value: Error): void {
    const out = this.out;
    // What structured clone keeps (HTML's serialization of errors, as V8 does it): the prototype
    // named by `name`, an own `message`, `stack` when it is a string, and an own `cause`.
    const name = String(value.name);
    const prototype = Math.max(0, ERROR_NAMES.indexOf(name as (typeof ERROR_NAMES)[number]));
    const message = Object.getOwnPropertyDescriptor(value, 'message');
    const cause = Object.getOwnPropertyDescriptor(value, 'cause');
    const stack: unknown = value.stack;
    const hasMessage = message !== undefined && 'value' in message;
    const hasCause = cause !== undefined && 'value' in cause;
    out.byte(T_ERROR);
    out.byte(prototype);
    out.byte((hasMessage ? ERROR_HAS_MESSAGE : 0) | (typeof stack === 'string' ? ERROR_HAS_STACK : 0) | (hasCause ? ERROR_HAS_CAUSE : 0));
    if (hasMessage) out.string(String(message.value));
    if (typeof stack === 'string') out.string(stack);
    if (hasCause) this.item(cause.value);
  }

  #geometry(kind: number, value: object): void {
    const out = this.out;
    out.byte(T_GEOMETRY);
    out.byte(kind);
    const name = GEOMETRY_KINDS[kind]!;
    const g = value as Record<string, number> & { is2D?: boolean; toFloat64Array?(): Float64Array; p1?: DOMPointReadOnly; p2?: DOMPointReadOnly; p3?: DOMPointReadOnly; p4?: DOMPointReadOnly };
    if (name.startsWith('DOMPoint')) for (const k of ['x', 'y', 'z', 'w']) out.f64(g[k]!);
    else if (name.startsWith('DOMRect')) for (const k of ['x', 'y', 'width', 'height']) out.f64(g[k]!);
    else if (name === 'DOMQuad') for (const p of [g.p1!, g.p2!, g.p3!, g.p4!]) for (const n of [p.x, p.y, p.z, p.w]) out.f64(n);
    else {
      out.byte(g.is2D ? 1 : 0);
      const m = g.toFloat64Array!();
      for (const n of g.is2D ? [m[0]!, m[1]!, m[4]!, m[5]!, m[12]!, m[13]!] : [...m]) out.f64(n);
    }
  }

  #imageData(value: ImageData): void {
    const out = this.out;
    if (!(value.data instanceof Uint8ClampedArray)) throw new TypeError('ImageData with float pixels cannot be stored');
    out.byte(T_IMAGE_DATA);
    out.varint(value.width);
    out.varint(value.height);
    out.string(value.colorSpace ?? 'srgb');
    out.varint(value.data.byteLength);
    out.raw(new Uint8Array(value.data.buffer, value.data.byteOffset, value.data.byteLength));
  }

  #blob(value: Blob): void {
    const out = this.out;
    const read = this.options.readBlob;
    if (!read) throw new TypeError('a Blob cannot be stored here (no way to read it synchronously)');
    // Refuse before reading a Blob that cannot fit.
    out.reserve(value.size + 16);
    const isFile = typeof File !== 'undefined' && value instanceof File;
    if (isFile) {
      out.byte(T_FILE);
      out.string(value.name);
      out.string(value.type);
      out.f64(value.lastModified);
    } else {
      out.byte(T_BLOB);
      out.string(value.type);
    }
    const bytes = read(value);
    out.varint(bytes.length);
    out.raw(bytes);
  }
}

/**
 * Encode a structured-clone value.
 *
 * @returns Bytes owned by the caller: one buffer of their size (for a value that is one buffer or
 *   view, at most 64 bytes larger).
 * @throws TypeError for what cannot be written as bytes (functions, symbols, platform objects
 *   other than Blob and File, shared memory) and for a value over `maxBytes`.
 */
export function encodeValue(value: unknown, options: EncodeOptions = {}): Uint8Array {
  // A value that is one buffer or view (the common large value): one buffer of about its size,
  // handed back as it is, instead of grown by doubling and copied to size at the end.
  const bytesValue = value instanceof ArrayBuffer || ArrayBuffer.isView(value);
  const encoder = new Encoder(options, bytesValue ? (ArrayBuffer.isView(value) ? value.buffer.byteLength : value.byteLength) + BYTES_VALUE_SLACK : undefined);
  encoder.out.byte(VALUE_FORMAT_VERSION);
  encoder.item(value);
  const { bytes, at } = encoder.out;
  return bytesValue && bytes.length - at <= BYTES_VALUE_SLACK ? bytes.subarray(0, at) : bytes.slice(0, at);
}

/** Thrown by {@link decodeValue} for bytes that are not a value of this encoding. */
export class ValueFormatError extends Error {
  override name = 'ValueFormatError';
}

class Decoder {
  at = 0;
  readonly view: DataView;
  readonly #objects: unknown[] = [];
  /** The buffers made for this value: the caller may transfer them. */
  readonly buffers: ArrayBuffer[] = [];
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #need(n: number): void {
    if (this.at + n > this.bytes.length) throw new ValueFormatError(`value ends early at byte ${this.at}`);
  }
  byte(): number {
    this.#need(1);
    return this.bytes[this.at++]!;
  }
  varint(): number {
    const n = readVarint(this.bytes, this);
    if (n !== undefined) return n;
    if (this.at > this.bytes.length) throw new ValueFormatError(`value ends early at byte ${this.bytes.length}`);
    throw new ValueFormatError(`varint too long at byte ${this.at}`);
  }
  f64(): number {
    this.#need(8);
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    return n;
  }
  raw(n: number): Uint8Array {
    this.#need(n);
    const bytes = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return bytes;
  }
  string(): string {
    const tag = this.byte();
    const n = this.varint();
    if (tag === T_STRING16) {
      this.#need(n * 2);
      let s = '';
      for (let i = 0; i < n; i++, this.at += 2) s += String.fromCharCode(this.view.getUint16(this.at, true));
      return s;
    }
    if (tag !== T_STRING) throw new ValueFormatError(`expected a string at byte ${this.at}`);
    const bytes = this.raw(n);
    if (n < 32) {
      let s = '';
      for (let i = 0; i < n; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) return utf8Decoder.decode(bytes);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8Decoder.decode(bytes);
  }
  bigint(): bigint {
    const negative = this.byte() === 1;
    const digits = this.raw(this.varint());
    let n = 0n;
    for (let i = digits.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(digits[i]!);
    return negative ? -n : n;
  }
  #remember<T>(value: T): T {
    this.#objects.push(value);
    return value;
  }
  #newBuffer(length: number, maxByteLength?: number): ArrayBuffer {
    const buffer = maxByteLength === undefined ? new ArrayBuffer(length) : new ArrayBuffer(length, { maxByteLength });
    new Uint8Array(buffer).set(this.raw(length));
    this.buffers.push(buffer);
    return buffer;
  }

  item(): unknown {
    const tag = this.byte();
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_INT: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case T_DOUBLE:
        return this.f64();
      case T_BIGINT:
        return this.bigint();
      case T_STRING:
      case T_STRING16:
        this.at--;
        return this.string();
      case T_REF: {
        const id = this.varint();
        if (id >= this.#objects.length) throw new ValueFormatError(`reference to object ${id} before it exists`);
        return this.#objects[id];
      }
      case T_OBJECT: {
        const object = this.#remember({} as Record<string, unknown>);
        for (let n = this.varint(); n > 0; n--) {
          const key = this.string();
          object[key] = this.item();
        }
        return object;
      }
      case T_DENSE_ARRAY: {
        const n = this.varint();
        const array = this.#remember(new Array<unknown>(n));
        for (let i = 0; i < n; i++) array[i] = this.item();
        return array;
      }
      case T_ARRAY: {
        const array = this.#remember(new Array<unknown>(this.varint())) as unknown as Record<string, unknown>;
        for (let n = this.varint(); n > 0; n--) {
          const key = this.string();
          array[key] = this.item();
        }
        return array;
      }
      case T_DATE:
        return this.#remember(new Date(this.f64()));
      case T_REGEXP: {
        const id = this.#objects.push(undefined) - 1;
        const source = this.string();
        return (this.#objects[id] = new RegExp(source, this.string()));
      }
      case T_BOOLEAN_OBJECT:
        return this.#remember(Object(this.byte() === 1));
      case T_NUMBER_OBJECT:
        return this.#remember(Object(this.f64()));
      case T_STRING_OBJECT: {
        const id = this.#objects.push(undefined) - 1;
        return (this.#objects[id] = Object(this.string()));
      }
      case T_BIGINT_OBJECT: {
        const id = this.#objects.push(undefined) - 1;
        return (this.#objects[id] = Object(this.bigint()));
      }
      case T_MAP: {
        const map = this.#remember(new Map<unknown, unknown>());
        for (let n = this.varint(); n > 0; n--) {
          const key = this.item();
          map.set(key, this.item());
        }
        return map;
      }
      case T_SET: {
        const set = this.#remember(new Set<unknown>());
        for (let n = this.varint(); n > 0; n--) set.add(this.item());
        return set;
      }
      case T_ERROR:
        return this.#error();
      case T_ARRAY_BUFFER:
        return this.#remember(this.#newBuffer(this.varint()));
      case T_RESIZABLE_BUFFER: {
        const length = this.varint();
        return this.#remember(this.#newBuffer(length, this.varint()));
      }
      case T_VIEW:
        return this.#view();
      case T_BLOB: {
        const id = this.#objects.push(undefined) - 1;
        const type = this.string();
        return (this.#objects[id] = new Blob([this.raw(this.varint()) as Uint8Array<ArrayBuffer>], { type }));
      }
      case T_FILE: {
        const id = this.#objects.push(undefined) - 1;
        const name = this.string();
        const type = this.string();
        const lastModified = this.f64();
        return (this.#objects[id] = new File([this.raw(this.varint()) as Uint8Array<ArrayBuffer>], name, { type, lastModified }));
      }
      case T_DOM_EXCEPTION: {
        const id = this.#objects.push(undefined) - 1;
        const message = this.string();
        return (this.#objects[id] = new DOMException(message, this.string()));
      }
      case T_GEOMETRY: {
        const id = this.#objects.push(undefined) - 1;
        return (this.#objects[id] = this.#geometry());
      }
      case T_IMAGE_DATA: {
        const id = this.#objects.push(undefined) - 1;
        const width = this.varint();
        const height = this.varint();
        const colorSpace = this.string() as PredefinedColorSpace;
        const data = new Uint8ClampedArray(this.raw(this.varint()));
        const ImageDataCtor = platform.ImageData as unknown as (new (data: Uint8ClampedArray, width: number, height: number, settings?: ImageDataSettings) => ImageData) | undefined;
        if (!ImageDataCtor) throw new ValueFormatError('ImageData cannot be made here');
        return (this.#objects[id] = new ImageDataCtor(data, width, height, { colorSpace }));
      }
      default:
        throw new ValueFormatError(`unknown item 0x${tag.toString(16)} at byte ${this.at - 1}`);
    }
  }

  #geometry(): object {
    const name = GEOMETRY_KINDS[this.byte()];
    const Ctor = name ? (platform[name] as unknown as (new (...args: unknown[]) => object) | undefined) : undefined;
    if (!name || !Ctor) throw new ValueFormatError(`geometry of an unknown kind, or not available here, at byte ${this.at - 1}`);
    const numbers = (n: number) => Array.from({ length: n }, () => this.f64());
    if (name.startsWith('DOMPoint') || name.startsWith('DOMRect')) return new Ctor(...numbers(4));
    if (name === 'DOMQuad') {
      const [a, b, c, d] = [numbers(4), numbers(4), numbers(4), numbers(4)].map(([x, y, z, w]) => ({ x, y, z, w }));
      return new Ctor(a, b, c, d);
    }
    const is2D = this.byte() === 1;
    return new Ctor(numbers(is2D ? 6 : 16));
  }

  #error(): Error {
    const id = this.#objects.push(undefined) - 1;
    const Ctor = (globalThis as unknown as Record<string, ErrorConstructor>)[ERROR_NAMES[this.byte()] ?? 'Error']!;
    const flags = this.byte();
    const error = new Ctor();
    this.#objects[id] = error;
    const define = (key: string, value: unknown) => Object.defineProperty(error, key, { value, writable: true, enumerable: false, configurable: true });
    if (flags & ERROR_HAS_MESSAGE) define('message', this.string());
    // The new error's own stack (of this decoder) is replaced by the stored one, or removed.
    if (flags & ERROR_HAS_STACK) error.stack = this.string();
    else delete (error as { stack?: string }).stack;
    if (flags & ERROR_HAS_CAUSE) define('cause', this.item());
    return error;
  }

  #view(): ArrayBufferView {
    const id = this.#objects.push(undefined) - 1;
    const Ctor = VIEW_KINDS[this.byte()];
    if (!Ctor) throw new ValueFormatError(`unknown view kind at byte ${this.at - 1}`);
    const tracking = this.byte() === 1;
    const byteOffset = this.varint();
    const length = this.varint();
    const buffer = this.item();
    if (!(buffer instanceof ArrayBuffer)) throw new ValueFormatError(`a view without a buffer at byte ${this.at}`);
    try {
      const view = tracking ? new Ctor(buffer, byteOffset) : new Ctor(buffer, byteOffset, length);
      return (this.#objects[id] = view) as ArrayBufferView;
    } catch (error) {
      throw new ValueFormatError(`a view outside its buffer: ${(error as Error).message}`);
    }
  }
}

/**
 * Decode bytes written by {@link encodeValue}.
 *
 * @param transferable When given, receives the ArrayBuffers made for the value (no one else holds them).
 * @throws {@link ValueFormatError} for bytes that are not a value of this encoding.
 */
export function decodeValue(bytes: Uint8Array, transferable?: ArrayBuffer[]): unknown {
  const decoder = new Decoder(bytes);
  const version = decoder.byte();
  if (version !== VALUE_FORMAT_VERSION) throw new ValueFormatError(`value encoding version ${version}; this build reads ${VALUE_FORMAT_VERSION}`);
  const value = decoder.item();
  if (decoder.at !== bytes.length) throw new ValueFormatError(`${bytes.length - decoder.at} bytes after the value`);
  if (transferable) transferable.push(...decoder.buffers);
  return value;
}
