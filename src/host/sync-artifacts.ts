/**
 * The export artifacts sync keeps in an Object Store bucket (docs/sync.md, "Snapshots"): written
 * from a view frozen at one moment (the snapshot alone: checkpoints belong to the device that
 * saved them), and read back without trusting them — the manifest, every file's SHA-256, then the
 * snapshot's structure, checksums and key order, as an import checks them.
 */
import { artifactChunks } from '../format/artifact-writer.js';
import type { Engine } from '../engine/engine.js';
import type { FileLike } from '../engine/ports.js';
import { verifySnapshot } from '../engine/snapshot-check.js';
import { StoreError } from '../errors.js';
import { readAt } from '../engine/ports.js';
import { readArtifact } from './import.js';

/** One entry of a snapshot artifact: its key, its encoded value, its expiry (0: none). */
export interface ArtifactEntry {
  key: string;
  value: Uint8Array;
  expiresAt: number;
}

/**
 * Freeze the store's state now (synchronously: nothing committed after the call is in it) and
 * write it as an artifact.
 */
export function exportSyncArtifact(engine: Engine, store: string): { seq: number; blob: Promise<Blob> } {
  const begin = engine.exportBegin();
  const blob = (async () => {
    const parts: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of artifactChunks({ begin, chunk: (view, maxBytes) => engine.exportChunk(view, maxBytes) }, store, async () => [], () => {})) parts.push(chunk as Uint8Array<ArrayBuffer>);
    return new Blob(parts, { type: 'application/x-tar' });
  })();
  return { seq: begin.seq, blob };
}

/** A read-only {@link FileLike} over bytes in memory. */
function bytesFile(bytes: Uint8Array): FileLike {
  const refuse = () => {
    throw new TypeError('read-only');
  };
  return {
    read: (buffer, { at }) => {
      const part = bytes.subarray(Math.min(at, bytes.byteLength), Math.min(at + buffer.byteLength, bytes.byteLength));
      buffer.set(part);
      return part.byteLength;
    },
    write: refuse,
    truncate: refuse,
    getSize: () => bytes.byteLength,
    flush: () => {},
    close: () => {},
  };
}

/**
 * Check an artifact from the bucket and read its snapshot's entries (values still encoded).
 *
 * @throws {@link StoreError} `STORE_INVALID_ARTIFACT` saying what is wrong.
 */
export async function readSyncArtifact(blob: Blob): Promise<{ seq: number; entries: ArtifactEntry[] }> {
  const layout = await readArtifact(blob);
  const names = [...layout.files.keys()].filter((name) => name.endsWith('.db'));
  if (names.length !== 1) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: it holds ${names.length} snapshots, not one`);
  const name = names[0]!;
  const file = layout.files.get(name)!;
  const bytes = new Uint8Array(await blob.slice(file.offset, file.offset + file.size).arrayBuffer());
  const snapshot = bytesFile(bytes);
  const verified = verifySnapshot(snapshot, name, undefined);
  if ('problem' in verified) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: ${name}: ${verified.problem}`);
  if (verified.seq !== layout.manifest.seq) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: ${name} holds seq ${verified.seq}; the manifest says ${layout.manifest.seq}`);
  const { view } = verified;
  const entries: ArtifactEntry[] = [];
  for (let i = 0; i < view.length; i++) {
    const entry = view.entryAt(i);
    // The whole-file checksum covered every value: read them as they are.
    entries.push({ key: view.keyAt(i), value: readAt(snapshot, entry.valueOffset, entry.valueLength), expiresAt: entry.expiresAt });
  }
  return { seq: verified.seq, entries };
}
