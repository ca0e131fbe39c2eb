/**
 * The byte encoding of a checkpoint, for export and for apps that want the bytes
 * (docs/format.md, "Checkpoint"). Decoding checks length, version and checksum.
 */
import { crc32c } from './crc32c.js';
import { decodeUtf8, encodeUtf8, getUint64, setUint64, viewOf } from './bytes.js';

/** ASCII `WCKP`. */
export const CHECKPOINT_MAGIC = Uint8Array.from([0x57, 0x43, 0x4b, 0x50]);
/** The checkpoint encoding version this build writes and reads. */
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Magic (4) | version u8 | reserved (3) | body length u32 | body crc32c u32. */
export const CHECKPOINT_HEADER_BYTES = 16;

/** A checkpoint with every field present, as stored and as encoded. */
export interface CheckpointData {
  stream: string;
  sequence: number;
  watermark: number;
  eventCount: number;
  operatorStates: Record<string, Uint8Array>;
  sourceOffsets: Record<string, number>;
  metadata: Record<string, string>;
  savedAt: number;
}

/** Thrown inside the decoder only; {@link readCheckpoint} turns it into `{ kind: 'invalid' }`. */
class CheckpointFormatError extends Error {}

/** What {@link readCheckpoint} found. */
export type CheckpointReadResult = { kind: 'checkpoint'; checkpoint: CheckpointData } | { kind: 'invalid'; reason: string };

class Writer {
  chunks: Uint8Array[] = [];
  length = 0;
  #push(bytes: Uint8Array) {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }
  u32(value: number) {
    const bytes = new Uint8Array(4);
    viewOf(bytes).setUint32(0, value, true);
    this.#push(bytes);
  }
  u64(value: number) {
    const bytes = new Uint8Array(8);
    setUint64(viewOf(bytes), 0, value);
    this.#push(bytes);
  }
  f64(value: number) {
    const bytes = new Uint8Array(8);
    viewOf(bytes).setFloat64(0, value, true);
    this.#push(bytes);
  }
  bytes(value: Uint8Array) {
    this.u32(value.byteLength);
    this.#push(value.slice());
  }
  str(value: string) {
    this.bytes(encodeUtf8(value));
  }
}

class Reader {
  at = 0;
  readonly view: DataView;
  constructor(readonly data: Uint8Array) {
    this.view = viewOf(data);
  }
  #need(n: number) {
    if (this.at + n > this.data.byteLength) throw new CheckpointFormatError(`checkpoint is truncated at byte ${CHECKPOINT_HEADER_BYTES + this.at}`);
  }
  u32() {
    this.#need(4);
    const value = this.view.getUint32(this.at, true);
    this.at += 4;
    return value;
  }
  u64() {
    this.#need(8);
    const value = getUint64(this.view, this.at);
    this.at += 8;
    if (!Number.isFinite(value)) throw new CheckpointFormatError('checkpoint holds an integer beyond 2^53');
    return value;
  }
  f64() {
    this.#need(8);
    const value = this.view.getFloat64(this.at, true);
    this.at += 8;
    return value;
  }
  bytes() {
    const length = this.u32();
    this.#need(length);
    const value = this.data.slice(this.at, this.at + length);
    this.at += length;
    return value;
  }
  str() {
    try {
      return decodeUtf8(this.bytes());
    } catch (error) {
      if (error instanceof CheckpointFormatError) throw error;
      throw new CheckpointFormatError('checkpoint holds malformed UTF-8');
    }
  }
}

/** Encode a checkpoint; see docs/format.md for the layout. */
export function encodeCheckpoint(checkpoint: CheckpointData): Uint8Array {
  const body = new Writer();
  body.str(checkpoint.stream);
  body.u64(checkpoint.sequence);
  body.f64(checkpoint.watermark);
  body.u64(checkpoint.eventCount);
  body.f64(checkpoint.savedAt);
  const states = Object.entries(checkpoint.operatorStates);
  body.u32(states.length);
  for (const [name, state] of states) body.str(name), body.bytes(state);
  const offsets = Object.entries(checkpoint.sourceOffsets);
  body.u32(offsets.length);
  for (const [name, offset] of offsets) body.str(name), body.f64(offset);
  const metadata = Object.entries(checkpoint.metadata);
  body.u32(metadata.length);
  for (const [key, value] of metadata) body.str(key), body.str(value);
  const out = new Uint8Array(CHECKPOINT_HEADER_BYTES + body.length);
  let at = CHECKPOINT_HEADER_BYTES;
  for (const chunk of body.chunks) out.set(chunk, at), (at += chunk.byteLength);
  out.set(CHECKPOINT_MAGIC, 0);
  out[4] = CHECKPOINT_FORMAT_VERSION;
  viewOf(out).setUint32(8, body.length, true);
  viewOf(out).setUint32(12, crc32c(out.subarray(CHECKPOINT_HEADER_BYTES)), true);
  return out;
}

/**
 * Decode bytes made by {@link encodeCheckpoint}, without throwing.
 *
 * @returns The checkpoint, or why the bytes are not one: truncated, damaged, foreign or of a newer version.
 */
export function readCheckpoint(bytes: Uint8Array): CheckpointReadResult {
  try {
    return { kind: 'checkpoint', checkpoint: decode(bytes) };
  } catch (error) {
    if (error instanceof CheckpointFormatError) return { kind: 'invalid', reason: error.message };
    throw error;
  }
}

function decode(bytes: Uint8Array): CheckpointData {
  if (bytes.byteLength < CHECKPOINT_HEADER_BYTES) throw new CheckpointFormatError(`checkpoint is truncated: ${bytes.byteLength} bytes`);
  for (let i = 0; i < 4; i++) if (bytes[i] !== CHECKPOINT_MAGIC[i]) throw new CheckpointFormatError('not a Walden checkpoint (bad magic)');
  if (bytes[4] !== CHECKPOINT_FORMAT_VERSION) throw new CheckpointFormatError(`checkpoint format version ${bytes[4]} is not supported (this build reads 1)`);
  const length = viewOf(bytes).getUint32(8, true);
  if (bytes.byteLength !== CHECKPOINT_HEADER_BYTES + length) throw new CheckpointFormatError(`checkpoint is ${bytes.byteLength} bytes but its header says ${CHECKPOINT_HEADER_BYTES + length}`);
  const body = bytes.subarray(CHECKPOINT_HEADER_BYTES);
  if (crc32c(body) !== viewOf(bytes).getUint32(12, true)) throw new CheckpointFormatError('checkpoint fails its checksum');
  const r = new Reader(body);
  const stream = r.str();
  const sequence = r.u64();
  const watermark = r.f64();
  const eventCount = r.u64();
  const savedAt = r.f64();
  // fromEntries defines own properties, so a name like "__proto__" stays data.
  const pairs = <T>(read: () => T): Record<string, T> => {
    const entries: [string, T][] = [];
    for (let i = r.u32(); i > 0; i--) entries.push([r.str(), read()]);
    return Object.fromEntries(entries);
  };
  const operatorStates = pairs(() => r.bytes());
  const sourceOffsets = pairs(() => r.f64());
  const metadata = pairs(() => r.str());
  if (r.at !== body.byteLength) throw new CheckpointFormatError('checkpoint has trailing bytes');
  return { stream, sequence, watermark, eventCount, operatorStates, sourceOffsets, metadata, savedAt };
}
