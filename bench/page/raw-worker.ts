// The raw OPFS limit: framed records appended to one file, one write() + flush() per commit,
// answered over postMessage. Nothing else: no index beyond a Map, no codec beyond UTF-8 for
// string values, no catalog. Opening replays the whole log (checking every record's CRC) into
// the Map: the simplest way to open a store of durable records.
import CRC32C from 'crc-32/crc32c.js';

let file: FileSystemSyncAccessHandle | undefined;
let end = 0;
let seq = 0;
/** key → [offset, length, is a string] */
const index = new Map<string, [number, number, boolean]>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Frame: crc u32 | length u32 | seq u32 | key length u31 + string flag (top bit) | key | value. */
const FRAME_HEADER = 16;
const STRING_FLAG = 0x8000_0000;

function frame(entries: [string, string | Uint8Array][]): Uint8Array {
  let size = 0;
  const keys = entries.map(([k]) => encoder.encode(k));
  const values = entries.map(([, v]) => (typeof v === 'string' ? encoder.encode(v) : v));
  values.forEach((v, i) => (size += FRAME_HEADER + keys[i]!.byteLength + v.byteLength));
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  entries.forEach(([key, original], i) => {
    const k = keys[i]!;
    const value = values[i]!;
    const isString = typeof original === 'string';
    view.setUint32(at + 4, k.byteLength + value.byteLength, true);
    view.setUint32(at + 8, ++seq, true);
    view.setUint32(at + 12, (k.byteLength | (isString ? STRING_FLAG : 0)) >>> 0, true);
    out.set(k, at + FRAME_HEADER);
    out.set(value, at + FRAME_HEADER + k.byteLength);
    view.setUint32(at, CRC32C.buf(out.subarray(at + 4, at + FRAME_HEADER + k.byteLength + value.byteLength)) >>> 0, true);
    index.set(key, [end + at + FRAME_HEADER + k.byteLength, value.byteLength, isString]);
    at += FRAME_HEADER + k.byteLength + value.byteLength;
  });
  return out;
}

/** Read the whole log and index every record whose CRC holds; stop at the first that does not (a torn tail). */
function replay(): void {
  const size = file!.getSize();
  const bytes = new Uint8Array(size);
  file!.read(bytes, { at: 0 });
  const view = new DataView(bytes.buffer);
  let at = 0;
  while (at + FRAME_HEADER <= size) {
    const length = view.getUint32(at + 4, true);
    const keyField = view.getUint32(at + 12, true);
    const keyLength = keyField & ~STRING_FLAG;
    const next = at + FRAME_HEADER + length;
    if (length < keyLength || next > size) break;
    if (CRC32C.buf(bytes.subarray(at + 4, next)) >>> 0 !== view.getUint32(at, true)) break;
    const key = decoder.decode(bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + keyLength));
    index.set(key, [at + FRAME_HEADER + keyLength, length - keyLength, (keyField & STRING_FLAG) !== 0]);
    seq = view.getUint32(at + 8, true);
    at = next;
  }
  end = at;
}

self.onmessage = async (event: MessageEvent) => {
  const { id, op, args } = event.data as { id: number; op: string; args: unknown[] };
  let result: unknown;
  if (op === 'open') {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(`raw-${args[0]}.log`, { create: true });
    file = await handle.createSyncAccessHandle();
    index.clear();
    seq = 0;
    replay();
  } else if (op === 'put' || op === 'batch') {
    const entries = op === 'put' ? [args as [string, string | Uint8Array]] : (args[0] as [string, string | Uint8Array][]);
    const bytes = frame(entries);
    file!.write(bytes, { at: end });
    file!.flush();
    end += bytes.byteLength;
  } else if (op === 'get' || op === 'getMany') {
    const keys = op === 'get' ? [args[0] as string] : (args[0] as string[]);
    result = keys.map((key) => {
      const at = index.get(key);
      if (!at) return undefined;
      const buffer = new Uint8Array(at[1]);
      file!.read(buffer, { at: at[0] });
      return at[2] ? decoder.decode(buffer) : buffer;
    });
    if (op === 'get') result = (result as unknown[])[0];
  } else if (op === 'close') {
    file?.close();
  }
  (self as unknown as Worker).postMessage({ id, result });
};
