// The raw OPFS limit: framed records appended to one file, one write() + flush() per commit,
// answered over postMessage. Nothing else: no index beyond a Map, no codec, no catalog.
import CRC32C from 'crc-32/crc32c.js';

let file: FileSystemSyncAccessHandle | undefined;
let end = 0;
let seq = 0;
const index = new Map<string, [number, number]>();
const encoder = new TextEncoder();

function frame(entries: [string, Uint8Array][]): Uint8Array {
  let size = 0;
  const keys = entries.map(([k]) => encoder.encode(k));
  entries.forEach(([, v], i) => (size += 16 + keys[i]!.byteLength + v.byteLength));
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  entries.forEach(([key, value], i) => {
    const k = keys[i]!;
    view.setUint32(at + 4, k.byteLength + value.byteLength, true);
    view.setUint32(at + 8, ++seq, true);
    view.setUint32(at + 12, k.byteLength, true);
    out.set(k, at + 16);
    out.set(value, at + 16 + k.byteLength);
    view.setUint32(at, CRC32C.buf(out.subarray(at + 4, at + 16 + k.byteLength + value.byteLength)) >>> 0, true);
    index.set(key, [end + at + 16 + k.byteLength, value.byteLength]);
    at += 16 + k.byteLength + value.byteLength;
  });
  return out;
}

self.onmessage = async (event: MessageEvent) => {
  const { id, op, args } = event.data as { id: number; op: string; args: unknown[] };
  let result: unknown;
  if (op === 'open') {
    const root = await navigator.storage.getDirectory();
    const handle = await root.getFileHandle(`raw-${args[0]}.log`, { create: true });
    file = await handle.createSyncAccessHandle();
    end = file.getSize();
  } else if (op === 'put' || op === 'batch') {
    const entries = (op === 'put' ? [args as [string, Uint8Array]] : (args[0] as [string, Uint8Array][]));
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
      return buffer;
    });
    if (op === 'get') result = (result as unknown[])[0];
  } else if (op === 'close') {
    file?.close();
  }
  (self as unknown as Worker).postMessage({ id, result });
};
