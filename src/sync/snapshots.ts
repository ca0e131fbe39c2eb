/**
 * The stream's snapshot in a JetStream Object Store bucket: one object, `snapshot`, holding a
 * Walden export artifact (the store's state at a stream seq), with what it is in the object's
 * metadata. The Object Store writes an object's chunks first and its description last, and checks
 * its SHA-256 on the way back; the artifact's own manifest is checked again when it is read.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { Objm } from '@nats-io/obj';
import { StoreError } from '../errors.js';

/** The object's name in the bucket. */
export const SNAPSHOT_OBJECT = 'snapshot';
/** The largest snapshot a device downloads. */
export const MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024;

/** What the snapshot is, from the object's metadata. */
export interface SnapshotMeta {
  /** The stream seq whose state it holds: a device goes on pulling after it. */
  pulled: number;
  /** The stream's creation time (a recreated stream's old snapshot is not used). */
  streamCreated: string;
  /** The uploading device's local seq of the state. */
  seq: number;
  /** The artifact's size. */
  bytes: number;
}

/** The bucket of a stream's snapshot, unless the options name one. */
export function snapshotBucket(stream: string, bucket: string | undefined): string {
  return bucket ?? `walden-${stream}`;
}

function encodeMeta(meta: SnapshotMeta): Record<string, string> {
  return { 'walden-pulled': String(meta.pulled), 'walden-stream-created': meta.streamCreated, 'walden-seq': String(meta.seq), 'walden-bytes': String(meta.bytes) };
}

/** The snapshot's description, or undefined when the metadata is not one Walden wrote. */
export function decodeMeta(metadata: Record<string, string> | undefined): SnapshotMeta | undefined {
  const count = (name: string) => {
    const text = metadata?.[name];
    const n = Number(text);
    return typeof text === 'string' && /^\d{1,16}$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
  };
  const pulled = count('walden-pulled');
  const seq = count('walden-seq');
  const bytes = count('walden-bytes');
  const streamCreated = metadata?.['walden-stream-created'];
  if (pulled === undefined || seq === undefined || bytes === undefined || typeof streamCreated !== 'string') return undefined;
  return { pulled, seq, bytes, streamCreated };
}

function isNotFound(error: unknown): boolean {
  return /not found|does not exist/i.test(`${(error as Error)?.message ?? ''}`);
}

/** Put `blob` as the bucket's snapshot (created with `replicas` copies if missing), replacing the one before. */
export async function uploadSnapshot(connection: NatsConnection, bucket: string, replicas: number, blob: Blob, meta: SnapshotMeta): Promise<void> {
  const store = await new Objm(connection).create(bucket, { replicas });
  await store.put({ name: SNAPSHOT_OBJECT, metadata: encodeMeta(meta) }, blob.stream() as ReadableStream<Uint8Array>);
}

/** The bucket's snapshot's description, or undefined when there is none. */
export async function findSnapshot(connection: NatsConnection, bucket: string): Promise<SnapshotMeta | undefined> {
  try {
    const store = await new Objm(connection).open(bucket);
    const info = await store.info(SNAPSHOT_OBJECT);
    return info && !info.deleted ? decodeMeta(info.metadata) : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Download the bucket's snapshot: its description and bytes, the Object Store's digest checked.
 *
 * @throws {@link StoreError} `STORE_INVALID_ARTIFACT` for an object that is not a snapshot, too large, or damaged.
 */
export async function downloadSnapshot(connection: NatsConnection, bucket: string): Promise<{ meta: SnapshotMeta; blob: Blob }> {
  const store = await new Objm(connection).open(bucket);
  const result = await store.get(SNAPSHOT_OBJECT);
  const meta = result && decodeMeta(result.info.metadata);
  if (!result || !meta) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the bucket ${bucket} holds no Walden snapshot`);
  if (meta.bytes > MAX_SNAPSHOT_BYTES || result.info.size > MAX_SNAPSHOT_BYTES) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot is ${result.info.size} bytes; at most ${MAX_SNAPSHOT_BYTES} are read`);
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = result.data.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SNAPSHOT_BYTES) {
      await reader.cancel();
      throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot is over ${MAX_SNAPSHOT_BYTES} bytes`);
    }
    parts.push(value as Uint8Array<ArrayBuffer>);
  }
  const error = await result.error;
  if (error) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot in ${bucket} did not download whole (${error.message})`);
  if (size !== meta.bytes) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: the snapshot is ${size} bytes; its description says ${meta.bytes}`);
  return { meta, blob: new Blob(parts) };
}
