/**
 * Exporting a store as one verified artifact: the snapshot streamed from the worker, the
 * checkpoints, and last the manifest with every file's size and SHA-256.
 */
import type { Remote } from 'comlink';
import { sha256 } from '@noble/hashes/sha2.js';
import { ARTIFACT_FORMAT, ARTIFACT_VERSION, encodeTarHeader, MANIFEST_NAME, TAR_END, tarPadding, toHex, type ExportManifest, type ManifestFile } from '../format/artifact.js';
import { encodeCheckpoint } from '../format/checkpoint.js';
import { snapshotName } from '../format/names.js';
import type { EngineApi } from '../protocol.js';
import type { Checkpoints } from './checkpoints.js';

/** Snapshot bytes asked of the worker per round trip. */
export const EXPORT_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * @internal The artifact's bytes, in order, and its manifest once they are all out.
 */
export async function* artifactChunks(remote: Remote<EngineApi>, store: string, checkpoints: Checkpoints, done: (manifest: ExportManifest) => void): AsyncGenerator<Uint8Array> {
  const mtime = Date.now();
  const begin = await remote.exportBegin();
  const files: ManifestFile[] = [];
  const snapshot = snapshotName(begin.seq);
  yield encodeTarHeader(snapshot, begin.bytes, mtime);
  const hash = sha256.create();
  let size = 0;
  for (;;) {
    const chunk = await remote.exportChunk(begin.view, EXPORT_CHUNK_BYTES);
    hash.update(chunk.bytes);
    size += chunk.bytes.byteLength;
    yield chunk.bytes;
    if (chunk.done) break;
  }
  if (size !== begin.bytes) throw new Error(`export produced ${size} bytes, ${begin.bytes} were announced`);
  yield tarPadding(size);
  files.push({ name: snapshot, size, sha256: toHex(hash.digest()) });
  let n = 0;
  for (const stream of await checkpoints.streams()) {
    for (const checkpoint of await checkpoints.list(stream)) {
      const bytes = encodeCheckpoint(checkpoint);
      const name = `checkpoint-${n++}.ckpt`;
      yield encodeTarHeader(name, bytes.byteLength, mtime);
      yield bytes;
      yield tarPadding(bytes.byteLength);
      files.push({ name, size: bytes.byteLength, sha256: toHex(sha256(bytes)) });
    }
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
