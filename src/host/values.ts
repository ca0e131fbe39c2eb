/**
 * Where values become bytes: the page hands the worker its values by structured clone, this
 * layer encodes them (`format/value.ts`) before the host routes them, and decodes what comes
 * back into fresh objects whose buffers it transfers to the page. So the page bundle carries
 * no codec, a Blob is read here (synchronously, with `FileReaderSync`), and what the page gets
 * is exactly what `structuredClone` gives.
 */
import { StoreError } from '../errors.js';
import { decodeValue, encodeValue, ValueFormatError, type BlobReader } from '../format/value.js';
import type { ChangePage, CommitOutcome, EncodedOp, EngineApi, Op, RecordApi, ScanRange, ValueOp } from '../protocol.js';
import { TRANSFER_MIN_BYTES } from '../transfer.js';
import { transferred } from '../hotpath.js';

/** Largest encoded value accepted by `put` (64 MiB). */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** Largest total of encoded values in one `batch` (128 MiB). */
export const MAX_BATCH_BYTES = 128 * 1024 * 1024;

/** Dedicated workers read Blobs synchronously; elsewhere (Node) a value with a Blob is refused. */
const readBlob: BlobReader | undefined = (() => {
  const Reader = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer } }).FileReaderSync;
  if (!Reader) return undefined;
  const reader = new Reader();
  return (blob: Blob) => new Uint8Array(reader.readAsArrayBuffer(blob));
})();

/** One write's ops encoded, or the TypeError message that refuses it. */
function encodeWrite(ops: ValueOp[]): EncodedOp[] | { refused: string } {
  let total = 0;
  try {
    return ops.map((op): EncodedOp => {
      if (op.type === 'del') return op;
      const value = encodeValue(op.value, { readBlob, maxBytes: MAX_VALUE_BYTES });
      total += value.byteLength;
      if (total > MAX_BATCH_BYTES) throw new TypeError(`batch values total more than ${MAX_BATCH_BYTES} bytes encoded; the limit is ${MAX_BATCH_BYTES}`);
      return { ...op, value };
    });
  } catch (error) {
    if (error instanceof TypeError) return { refused: error.message };
    throw error;
  }
}

/** Decodes values, collecting the buffers it made so that the answer can transfer them. */
class Decoding {
  readonly #made: ArrayBuffer[] = [];

  value(bytes: Uint8Array, key: string): unknown {
    try {
      return decodeValue(bytes, this.#made);
    } catch (error) {
      if (error instanceof ValueFormatError) throw new StoreError('STORE_CORRUPTION', `the value of ${JSON.stringify(key)} does not decode: ${error.message}`);
      throw error;
    }
  }

  ops(ops: EncodedOp[]): ValueOp[] {
    return ops.map((op): Op<unknown> => (op.type === 'put' ? { ...op, value: this.value(op.value, op.key) } : op));
  }

  /** `answer`, with the large buffers made for it transferred (small ones are cheaper to copy). */
  answer<T>(answer: T): T {
    const large = this.#made.filter((buffer) => buffer.byteLength >= TRANSFER_MIN_BYTES);
    // (Only an object can hold a buffer: an answer with large buffers is one.)
    return large.length > 0 ? (transferred(answer as T & object, large) as T) : answer;
  }
}

/** The page-facing interface over `core`, which routes encoded values. */
export function withValueCodec(core: RecordApi): EngineApi {
  return {
    ...core,
    async commit(writes: ValueOp[][]): Promise<CommitOutcome[]> {
      const encoded = writes.map(encodeWrite);
      const accepted = encoded.filter((write): write is EncodedOp[] => Array.isArray(write));
      const seqs = accepted.length > 0 ? await core.commit(accepted) : [];
      let next = 0;
      return encoded.map((write) => (Array.isArray(write) ? seqs[next++]! : write));
    },
    async get(key: string) {
      const bytes = await core.get(key);
      if (bytes === undefined) return undefined;
      const decoding = new Decoding();
      return decoding.answer(decoding.value(bytes, key));
    },
    async getMany(keys: string[]) {
      const values = await core.getMany(keys);
      const decoding = new Decoding();
      return decoding.answer(values.map((bytes, i) => (bytes === undefined ? undefined : decoding.value(bytes, keys[i]!))));
    },
    async scan(range: ScanRange, pageSize: number) {
      const page = await core.scan(range, pageSize);
      const decoding = new Decoding();
      return decoding.answer({ seq: page.seq, entries: page.entries.map(([key, bytes, seq]): [string, unknown, number] => [key, decoding.value(bytes, key), seq]) });
    },
    async readChanges(since: number, range: ScanRange, maxRecords: number, waitMs: number): Promise<ChangePage<unknown>> {
      const page = await core.readChanges(since, range, maxRecords, waitMs);
      if (page.kind === 'reset') return page;
      const decoding = new Decoding();
      return decoding.answer({ ...page, changes: page.changes.map((change) => ({ seq: change.seq, ops: decoding.ops(change.ops) })) });
    },
    async readResetView(view: number, afterKey: string | undefined, range: ScanRange, pageSize: number) {
      const page = await core.readResetView(view, afterKey, range, pageSize);
      const decoding = new Decoding();
      return decoding.answer({ done: page.done, entries: page.entries.map(([key, bytes]): [string, unknown] => [key, decoding.value(bytes, key)]) });
    },
    async exportChunk(view: number, maxBytes: number) {
      const chunk = await core.exportChunk(view, maxBytes);
      return transferred(chunk, [chunk.bytes.buffer as ArrayBuffer]);
    },
  };
}
