/**
 * `store.checkpoints`: named checkpoint states in IndexedDB, the newest N kept per stream,
 * each save durable (a strict transaction) when it resolves.
 */
import type { IDBPDatabase } from 'idb';
import type { CatalogSchema, CheckpointRow } from '../platform/catalog.js';
import { checkpointRange } from '../platform/ranges.js';
import { StoreError } from '../errors.js';
import { readCheckpoint, type CheckpointData } from '../format/checkpoint.js';

/** Checkpoints kept per stream unless `maxCheckpointsPerStream` says otherwise. */
export const DEFAULT_MAX_CHECKPOINTS_PER_STREAM = 10;

/** What a consumer saves: where it is in the feed and the state it derived. */
export interface CheckpointInput {
  /** The last seq whose change the consumer has fully processed. */
  sequence: number;
  /** An event-time watermark (for example milliseconds since the epoch). Default 0. */
  watermark?: number;
  /** Changes processed so far. Default 0. */
  eventCount?: number;
  /** Per-operator state, as bytes. */
  operatorStates?: Record<string, Uint8Array>;
  /** Positions in other sources the consumer reads. */
  sourceOffsets?: Record<string, number>;
  metadata?: Record<string, string>;
}

/** A saved checkpoint: every field present, plus its stream and when it was saved. */
export interface Checkpoint extends Required<CheckpointInput> {
  stream: string;
  savedAt: number;
}

function assertStream(stream: unknown): asserts stream is string {
  if (typeof stream !== 'string' || stream.length === 0) throw new TypeError('checkpoint stream must be a non-empty string');
}

function assertRecord<T>(value: unknown, what: string, check: (v: unknown) => v is T): asserts value is Record<string, T> | undefined {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what} must be an object`);
  for (const [k, v] of Object.entries(value)) if (!check(v)) throw new TypeError(`${what}.${k} has the wrong type`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function toCheckpoint({ store: _store, ...row }: CheckpointRow): Checkpoint {
  return row;
}

/** The checkpoints of one store. Get it as `store.checkpoints`. */
export class Checkpoints {
  #db: Promise<IDBPDatabase<CatalogSchema>> | undefined;

  /** @internal */
  constructor(
    readonly store: string,
    readonly maxPerStream = DEFAULT_MAX_CHECKPOINTS_PER_STREAM,
  ) {}

  #open(): Promise<IDBPDatabase<CatalogSchema>> {
    // idb loads with the first checkpoint call, not with the page entry.
    this.#db ??= import('../platform/catalog.js').then((catalog) => catalog.openCatalogDb());
    return this.#db;
  }

  /**
   * Save a checkpoint of `stream`, durably, and evict the oldest beyond the newest N.
   *
   * @returns The saved checkpoint.
   * @throws TypeError for a bad stream name or field.
   */
  async save(stream: string, input: CheckpointInput): Promise<Checkpoint> {
    assertStream(stream);
    if (typeof input !== 'object' || input === null) throw new TypeError('checkpoint must be an object');
    if (!isCount(input.sequence)) throw new TypeError('checkpoint sequence must be a non-negative integer');
    if (input.watermark !== undefined && typeof input.watermark !== 'number') throw new TypeError('checkpoint watermark must be a number');
    if (input.eventCount !== undefined && !isCount(input.eventCount)) throw new TypeError('checkpoint eventCount must be a non-negative integer');
    assertRecord(input.operatorStates, 'operatorStates', (v): v is Uint8Array => v instanceof Uint8Array);
    assertRecord(input.sourceOffsets, 'sourceOffsets', (v): v is number => typeof v === 'number');
    assertRecord(input.metadata, 'metadata', (v): v is string => typeof v === 'string');
    const row: CheckpointRow = {
      store: this.store,
      stream,
      sequence: input.sequence,
      watermark: input.watermark ?? 0,
      eventCount: input.eventCount ?? 0,
      operatorStates: { ...input.operatorStates },
      sourceOffsets: { ...input.sourceOffsets },
      metadata: { ...input.metadata },
      savedAt: Date.now(),
    };
    const [db, { IdbCatalog }] = await Promise.all([this.#open(), import('../platform/catalog.js')]);
    await new IdbCatalog(db).putCheckpoint(row, this.maxPerStream);
    return toCheckpoint(row);
  }

  /** The newest checkpoint (highest sequence) of `stream`, or undefined. */
  async latest(stream: string): Promise<Checkpoint | undefined> {
    assertStream(stream);
    const [db, { IdbCatalog }] = await Promise.all([this.#open(), import('../platform/catalog.js')]);
    const row = await new IdbCatalog(db).latestCheckpoint(this.store, stream);
    return row ? toCheckpoint(row) : undefined;
  }

  /** Every kept checkpoint of `stream`, ascending by sequence. */
  async list(stream: string): Promise<Checkpoint[]> {
    assertStream(stream);
    const db = await this.#open();
    return (await db.getAll('checkpoints', checkpointRange(this.store, stream))).map(toCheckpoint);
  }

  /** Delete the checkpoints of `stream` with a sequence below `sequence`. */
  async deleteBefore(stream: string, sequence: number): Promise<void> {
    assertStream(stream);
    if (typeof sequence !== 'number' || Number.isNaN(sequence)) throw new TypeError('sequence must be a number');
    const db = await this.#open();
    const tx = db.transaction('checkpoints', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.delete(IDBKeyRange.bound([this.store, stream, Number.NEGATIVE_INFINITY], [this.store, stream, sequence], false, true)), tx.done]);
  }

  /** Names of the streams that have checkpoints, sorted. */
  async streams(): Promise<string[]> {
    const db = await this.#open();
    const keys = await db.getAllKeys('checkpoints', checkpointRange(this.store));
    return [...new Set(keys.map(([, stream]) => stream))];
  }

  /** @internal Close the database connection. */
  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    (await db)?.close();
  }
}

/**
 * Decode bytes made by `encodeCheckpoint` (docs/format.md, "Checkpoints").
 *
 * @throws TypeError when `bytes` is not a Uint8Array.
 * @throws {@link StoreError} `STORE_INVALID_CHECKPOINT` for truncated, damaged, foreign or newer-version bytes.
 */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointData {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('decodeCheckpoint takes a Uint8Array');
  const result = readCheckpoint(bytes);
  if (result.kind === 'invalid') throw new StoreError('STORE_INVALID_CHECKPOINT', result.reason);
  return result.checkpoint;
}
