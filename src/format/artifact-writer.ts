/**
 * Writing an export artifact: a tar of the snapshot (streamed from its source), the checkpoints,
 * and last the manifest with every file's size and SHA-256 — an artifact cut short anywhere
 * before the end has no manifest. The page's `store.export()` and sync's snapshots both write it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, encodeTarHeader, MANIFEST_NAME, TAR_END, tarPadding, toHex, type ExportManifest, type ManifestFile } from './artifact.js';
import { encodeCheckpoint, type CheckpointData } from './checkpoint.js';
import { snapshotName } from './names.js';

/** Snapshot bytes asked of the source per call. */
export const EXPORT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Where the snapshot's bytes come from: a frozen view of the store, read in chunks (the engine's export, directly or through the worker). */
export interface SnapshotBytesSource {
  /** The view to read, the seq it holds, and the snapshot's size in bytes. */
  begin: { view: number; seq: number; bytes: number };
  /** The next bytes of view `view`, about `maxBytes`; `done` on the last chunk. */
  chunk(view: number, maxBytes: number): Promise<{ bytes: Uint8Array; done: boolean }> | { bytes: Uint8Array; done: boolean };
}

/**
 * The artifact's bytes, in order; `done` gets its manifest once they are all out.
 *
 * @param checkpoints Read after the snapshot: the checkpoints the artifact carries.
 * @throws Error when the source gives another number of bytes than it announced.
 */
export async function* artifactChunks(source: SnapshotBytesSource, store: string, checkpoints: () => Promise<CheckpointData[]>, done: (manifest: ExportManifest) => void): AsyncGenerator<Uint8Array> {
  const mtime = Date.now();
  const { begin } = source;
  const files: ManifestFile[] = [];
  const snapshot = snapshotName(begin.seq);
  yield encodeTarHeader(snapshot, begin.bytes, mtime);
  const hash = sha256.create();
  let size = 0;
  for (;;) {
    const chunk = await source.chunk(begin.view, EXPORT_CHUNK_BYTES);
    hash.update(chunk.bytes);
    size += chunk.bytes.byteLength;
    yield chunk.bytes;
    if (chunk.done) break;
  }
  if (size !== begin.bytes) throw new Error(`export produced ${size} bytes, ${begin.bytes} were announced`);
  yield tarPadding(size);
  files.push({ name: snapshot, size, sha256: toHex(hash.digest()) });
  let n = 0;
  for (const checkpoint of await checkpoints()) {
    const bytes = encodeCheckpoint(checkpoint);
    const name = `checkpoint-${n++}.ckpt`;
    yield encodeTarHeader(name, bytes.byteLength, mtime);
    yield bytes;
    yield tarPadding(bytes.byteLength);
    files.push({ name, size: bytes.byteLength, sha256: toHex(sha256(bytes)) });
  }
  // The manifest goes last: an artifact cut short anywhere before it has none.
  const manifest: ExportManifest = { format: ARTIFACT_FORMAT, version: ARTIFACT_VERSION, store, seq: begin.seq, createdAt: new Date(mtime).toISOString(), files };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
  yield encodeTarHeader(MANIFEST_NAME, bytes.byteLength, mtime);
  yield bytes;
  yield tarPadding(bytes.byteLength);
  yield TAR_END;
  done(manifest);
}
