/**
 * Importing an export artifact in the worker: read the tar without trusting it, check every
 * file's size and SHA-256 against the manifest, stage the snapshot in a fresh directory of the
 * store's backend (OPFS, or IndexedDB where sync handles are refused) and verify it, and only then switch the store over (catalog row last, strict).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ARTIFACT_MAX_FILES, decodeTarHeader, MANIFEST_MAX_BYTES, MANIFEST_NAME, parseManifest, TAR_BLOCK_BYTES, toHex, type ExportManifest } from '../format/artifact.js';
import { readCheckpoint, type CheckpointData } from '../format/checkpoint.js';
import { StoreError } from '../errors.js';
import type { IdbCatalog } from '../platform/catalog.js';
import type { BackendChoice, StoreInfo } from '../protocol.js';
import { Engine } from '../engine/engine.js';
import { writeAt } from '../engine/ports.js';
import { openOpfsDirectory, OpfsDirectory } from '../platform/opfs.js';
import { listStoreFiles, removeOpfsDirectory, waldenRoot } from '../platform/opfs-root.js';
import { isSyncHandleRefusal, resolveBackend } from '../platform/backend.js';
import { idbStoreExists, openIdbDirectory, removeIdbStore } from '../platform/idb-files.js';
import type { Directory } from '../engine/ports.js';
import { verifySnapshot } from '../engine/snapshot-check.js';

/** Bytes per read of the artifact while hashing or staging. */
/** The error for an artifact that is not one Walden wrote, or was damaged on the way. */
function invalidArtifact(why: string): StoreError {
  return new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: ${why}`);
}

const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** Where each file of an artifact sits in it. */
export interface ArtifactLayout {
  manifest: ExportManifest;
  files: Map<string, { offset: number; size: number }>;
}

async function bytesOf(blob: Blob, offset: number, size: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(await blob.slice(offset, offset + size).arrayBuffer());
  if (bytes.byteLength !== size) throw invalidArtifact('the artifact is truncated');
  return bytes;
}

/** Feed `size` bytes at `offset` of `blob` to `sink`, in chunks. */
async function forEachChunk(blob: Blob, offset: number, size: number, sink: (chunk: Uint8Array, at: number) => void): Promise<void> {
  for (let at = 0; at < size; at += READ_CHUNK_BYTES) sink(await bytesOf(blob, offset + at, Math.min(READ_CHUNK_BYTES, size - at)), at);
}

/**
 * Read an artifact's structure and check it against its manifest: names, sizes, hashes, the
 * manifest last, nothing unlisted, nothing missing.
 *
 * @throws {@link StoreError} `STORE_INVALID_ARTIFACT` saying what is wrong.
 */
export async function readArtifact(blob: Blob): Promise<ArtifactLayout> {
  const files = new Map<string, { offset: number; size: number }>();
  let manifestBytes: Uint8Array | undefined;
  let offset = 0;
  for (;;) {
    if (offset + TAR_BLOCK_BYTES > blob.size) throw invalidArtifact('the artifact is truncated (no end of archive)');
    const header = decodeTarHeader(await bytesOf(blob, offset, TAR_BLOCK_BYTES));
    if (header.kind === 'invalid') throw invalidArtifact(header.why);
    if (header.kind === 'end') break;
    if (manifestBytes) throw invalidArtifact(`${header.name} comes after the manifest; the manifest must be last`);
    if (files.has(header.name)) throw invalidArtifact(`${header.name} appears twice`);
    if (files.size >= ARTIFACT_MAX_FILES) throw invalidArtifact('too many files');
    const start = offset + TAR_BLOCK_BYTES;
    if (start + header.size > blob.size) throw invalidArtifact(`${header.name} is truncated`);
    if (header.name === MANIFEST_NAME) {
      if (header.size > MANIFEST_MAX_BYTES) throw invalidArtifact(`manifest is ${header.size} bytes; at most ${MANIFEST_MAX_BYTES} are accepted`);
      manifestBytes = await bytesOf(blob, start, header.size);
    } else {
      files.set(header.name, { offset: start, size: header.size });
    }
    offset = start + Math.ceil(header.size / TAR_BLOCK_BYTES) * TAR_BLOCK_BYTES;
  }
  if (!manifestBytes) throw invalidArtifact('there is no manifest (an upload or download cut short?)');
  const parsed = parseManifest(manifestBytes);
  if (parsed.kind === 'invalid') throw invalidArtifact(parsed.why);
  const { manifest } = parsed;
  if (manifest.files.length !== files.size) throw invalidArtifact(`the manifest lists ${manifest.files.length} files; the archive holds ${files.size}`);
  for (const listed of manifest.files) {
    const file = files.get(listed.name);
    if (!file) throw invalidArtifact(`${listed.name} is in the manifest but not in the archive`);
    if (file.size !== listed.size) throw invalidArtifact(`${listed.name} is ${file.size} bytes; the manifest says ${listed.size}`);
    const hash = sha256.create();
    await forEachChunk(blob, file.offset, file.size, (chunk) => hash.update(chunk));
    if (toHex(hash.digest()) !== listed.sha256) throw invalidArtifact(`${listed.name} does not match its SHA-256 in the manifest`);
  }
  return { manifest, files };
}

/** Decode the artifact's checkpoints (already hash-checked). */
export async function readCheckpoints(blob: Blob, layout: ArtifactLayout): Promise<CheckpointData[]> {
  const out: CheckpointData[] = [];
  for (const [name, file] of layout.files) {
    if (!name.endsWith('.ckpt')) continue;
    const result = readCheckpoint(await bytesOf(blob, file.offset, file.size));
    if (result.kind === 'invalid') throw invalidArtifact(`${name}: ${result.reason}`);
    out.push(result.checkpoint);
  }
  return out;
}

/**
 * Write the artifact's snapshot into `staging` (a fresh directory) and verify it as a
 * snapshot: structure, index and file checksums.
 *
 * @returns The snapshot's file name, size and checksum.
 */
export async function stageSnapshot(blob: Blob, layout: ArtifactLayout, staging: Directory): Promise<{ name: string; bytes: number; checksum: number }> {
  const name = [...layout.files.keys()].find((n) => n.endsWith('.db'))!;
  const file = layout.files.get(name)!;
  const handle = await staging.open(name, { create: true });
  try {
    handle.truncate(0);
    await forEachChunk(blob, file.offset, file.size, (chunk, at) => writeAt(handle, chunk, at));
    handle.flush();
    await staging.settled?.();
    const verified = verifySnapshot(handle, name, undefined);
    if ('problem' in verified) throw invalidArtifact(`${name}: ${verified.problem}`);
    if (verified.seq !== layout.manifest.seq) throw invalidArtifact(`${name} holds seq ${verified.seq}; the manifest says ${layout.manifest.seq}`);
    return { name, bytes: verified.bytes, checksum: verified.checksum };
  } finally {
    handle.close();
  }
}

/** Canonical JSON of a manifest, to compare a sibling manifest with the embedded one. */
export function sameManifest(a: ExportManifest, b: string): boolean {
  try {
    return JSON.stringify(a) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

/**
 * Import `artifact` as the store `name`, whose lock the caller holds: check everything before
 * touching anything (so a refusal leaves the existing store as it was), stage and verify the
 * snapshot, then switch (old store out, staged snapshot in, catalog row last) and recover it.
 *
 * @throws {@link StoreError} `STORE_EXISTS`, `STORE_INVALID_ARTIFACT`.
 */
export async function importIntoStore(name: string, artifact: Blob, options: { replace: boolean; expectedManifest?: string; backend?: BackendChoice }, db: IdbCatalog): Promise<StoreInfo> {
  const exists = (await listStoreFiles(name)).length > 0 || (await idbStoreExists(name)) || (await db.createdAt(name)) !== undefined;
  if (exists && !options.replace) throw new StoreError('STORE_EXISTS', `store ${JSON.stringify(name)} exists; pass { replace: true } to replace it`);
  const layout = await readArtifact(artifact);
  if (options.expectedManifest !== undefined && !sameManifest(layout.manifest, options.expectedManifest)) {
    throw invalidArtifact('the sibling manifest differs from the one inside the artifact');
  }
  const checkpoints = await readCheckpoints(artifact, layout);
  const choice = options.backend ?? 'auto';
  // A store being replaced goes where it lived; a new one where `choice` says.
  const backend = choice === 'auto' && exists && (await idbStoreExists(name)) ? 'indexeddb' : await resolveBackend(name, choice);
  const switchOver = async (snapshot: { name: string; bytes: number; checksum: number }, place: () => Promise<void>, target: () => Promise<Directory>) => {
    // Switch: old store out (both backends), staged snapshot in, then the catalog row (the commit point).
    if (exists) {
      await db.deleteStore(name);
      await removeOpfsDirectory(name);
      await removeIdbStore(name);
    }
    await place();
    await db.put({ store: name, seq: layout.manifest.seq, file: snapshot.name, bytes: snapshot.bytes, checksum: snapshot.checksum, createdAt: Date.now() });
    await db.putCheckpoints(name, checkpoints);
    const imported = await Engine.open(await target(), db, name, { durability: 'strict' });
    const info = imported.info();
    await imported.close();
    return info;
  };
  const stagingName = `.import-${name}-${Date.now().toString(36)}`;
  if (backend === 'opfs') {
    const walden = await waldenRoot(true);
    try {
      const staging = await walden.getDirectoryHandle(stagingName, { create: true });
      const snapshot = await stageSnapshot(artifact, layout, new OpfsDirectory(staging));
      return await switchOver(
        snapshot,
        async () => {
          const target = await walden.getDirectoryHandle(name, { create: true });
          const staged = await staging.getFileHandle(snapshot.name);
          await (staged as unknown as { move(dir: FileSystemDirectoryHandle): Promise<void> }).move(target);
        },
        () => openOpfsDirectory(name),
      );
    } catch (error) {
      // Sync handles refused here (WebKitGTK): import into IndexedDB instead.
      if (choice !== 'auto' || !isSyncHandleRefusal(error)) throw error;
      return importIntoStore(name, artifact, { ...options, backend: 'indexeddb' }, db);
    } finally {
      await walden.removeEntry(stagingName, { recursive: true }).catch(() => {});
    }
  }
  try {
    const staging = await openIdbDirectory(stagingName);
    const snapshot = await stageSnapshot(artifact, layout, staging);
    return await switchOver(
      snapshot,
      async () => {
        // IndexedDB has no move: copy the verified file into the store (the catalog row still comes last).
        const from = await staging.open(snapshot.name);
        const target = await openIdbDirectory(name);
        const to = await target.open(snapshot.name, { create: true });
        const bytes = new Uint8Array(from.getSize());
        from.read(bytes, { at: 0 });
        to.write(bytes, { at: 0 });
        to.flush();
        await target.settled();
        from.close();
        to.close();
      },
      () => openIdbDirectory(name),
    );
  } finally {
    await removeIdbStore(stagingName).catch(() => {});
  }
}
