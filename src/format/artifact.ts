/**
 * The export artifact: a plain POSIX tar (ustar) holding the store's snapshot, its checkpoints,
 * and last a `manifest.json` with each file's size and SHA-256 (docs/format.md, "Export
 * artifact"). Readers treat it as untrusted: every field is checked.
 */
import { parseSnapshotName } from './names.js';

/** Size of a tar header and of the blocks file contents are padded to. */
export const TAR_BLOCK_BYTES = 512;
/** The manifest is read into memory: it may be at most this large. */
export const MANIFEST_MAX_BYTES = 1024 * 1024;
/** At most this many files in an artifact. */
export const ARTIFACT_MAX_FILES = 10_001;
/** The manifest's `format` and `version`. */
export const ARTIFACT_FORMAT = 'walden-export';
export const ARTIFACT_VERSION = 1;
/** The manifest's file name: always the last entry. */
export const MANIFEST_NAME = 'manifest.json';

const CHECKPOINT_FILE = /^checkpoint-\d{1,6}\.ckpt$/;

/** One file as the manifest lists it. */
export interface ManifestFile {
  name: string;
  size: number;
  sha256: string;
}

/** The manifest of an export artifact. */
export interface ExportManifest {
  format: typeof ARTIFACT_FORMAT;
  version: typeof ARTIFACT_VERSION;
  store: string;
  seq: number;
  createdAt: string;
  files: ManifestFile[];
}

/** Why an artifact's bytes were refused (thrown inside this module only; its exports return `{ kind: 'invalid' }`). */
class Invalid extends Error {}

const invalid = (why: string) => new Invalid(why);

/** Run a decoder; a refusal becomes `{ kind: 'invalid', why }`. */
function refusing<T>(decode: () => T): T | { kind: 'invalid'; why: string } {
  try {
    return decode();
  } catch (error) {
    if (error instanceof Invalid) return { kind: 'invalid', why: error.message };
    throw error;
  }
}

function writeField(header: Uint8Array, at: number, length: number, text: string): void {
  for (let i = 0; i < text.length && i < length; i++) header[at + i] = text.charCodeAt(i);
}

function writeOctal(header: Uint8Array, at: number, length: number, value: number): void {
  writeField(header, at, length - 1, value.toString(8).padStart(length - 1, '0'));
  header[at + length - 1] = 0;
}

/** A ustar header for a regular file (`name` is ASCII and under 100 bytes). */
export function encodeTarHeader(name: string, size: number, mtimeMs: number): Uint8Array {
  const header = new Uint8Array(TAR_BLOCK_BYTES);
  writeField(header, 0, 100, name);
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, size);
  writeOctal(header, 136, 12, Math.floor(mtimeMs / 1000));
  header.fill(0x20, 148, 156);
  header[156] = 0x30; // '0': regular file
  writeField(header, 257, 8, 'ustar\u000000');
  writeField(header, 265, 32, 'walden');
  writeField(header, 297, 32, 'walden');
  const sum = header.reduce((a, b) => a + b, 0);
  writeField(header, 148, 6, sum.toString(8).padStart(6, '0'));
  header[154] = 0;
  header[155] = 0x20;
  return header;
}

/** Zero bytes that pad `size` up to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((TAR_BLOCK_BYTES - (size % TAR_BLOCK_BYTES)) % TAR_BLOCK_BYTES);
}

/** The two zero blocks that end a tar. */
export const TAR_END = new Uint8Array(2 * TAR_BLOCK_BYTES);

function readOctal(header: Uint8Array, at: number, length: number, what: string): number {
  let text = '';
  for (let i = at; i < at + length; i++) {
    const c = header[i]!;
    if (c === 0 || c === 0x20) {
      if (text.length > 0) break;
      continue;
    }
    if (c < 0x30 || c > 0x37) throw invalid(`tar header field ${what} is not octal`);
    text += String.fromCharCode(c);
  }
  if (text.length === 0) throw invalid(`tar header field ${what} is empty`);
  return Number.parseInt(text, 8);
}

/**
 * Decode one tar header without trusting it.
 *
 * @returns `end` for a zero block, `file` with the entry's name and size, or `invalid` for a bad
 *   checksum, a non-regular file, a path (any `/`), or a name that is not one of an artifact's.
 */
export function decodeTarHeader(header: Uint8Array): { kind: 'end' } | { kind: 'file'; name: string; size: number } | { kind: 'invalid'; why: string } {
  return refusing(() => tarHeader(header));
}

function tarHeader(header: Uint8Array): { kind: 'end' } | { kind: 'file'; name: string; size: number } {
  if (header.byteLength !== TAR_BLOCK_BYTES) throw invalid('truncated tar header');
  if (header.every((b) => b === 0)) return { kind: 'end' };
  const stored = readOctal(header, 148, 8, 'chksum');
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw invalid('tar header checksum mismatch');
  const type = header[156];
  if (type !== 0x30 && type !== 0) throw invalid('tar entry is not a regular file');
  if (header.subarray(345, 500).some((b) => b !== 0)) throw invalid('tar entry uses a path prefix');
  let name = '';
  for (let i = 0; i < 100 && header[i] !== 0; i++) name += String.fromCharCode(header[i]!);
  if (!isArtifactFileName(name) && name !== MANIFEST_NAME) throw invalid(`unexpected file ${JSON.stringify(name)} (paths and other names are refused)`);
  return { kind: 'file', name, size: readOctal(header, 124, 12, 'size') };
}

/** Whether `name` is a file an artifact may hold (besides the manifest). */
export function isArtifactFileName(name: string): boolean {
  return parseSnapshotName(name) !== undefined || CHECKPOINT_FILE.test(name);
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Parse and check a manifest.
 *
 * @returns `manifest`, or `invalid` for anything but a well-formed manifest of this version with
 *   exactly one snapshot whose seq matches.
 */
export function parseManifest(bytes: Uint8Array): { kind: 'manifest'; manifest: ExportManifest } | { kind: 'invalid'; why: string } {
  return refusing(() => ({ kind: 'manifest' as const, manifest: manifest(bytes) }));
}

function manifest(bytes: Uint8Array): ExportManifest {
  if (bytes.byteLength > MANIFEST_MAX_BYTES) throw invalid(`manifest is ${bytes.byteLength} bytes; at most ${MANIFEST_MAX_BYTES} are accepted`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('manifest is not JSON');
  }
  const m = value as Partial<ExportManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== ARTIFACT_FORMAT) throw invalid('not a Walden export (manifest format)');
  if (m.version !== ARTIFACT_VERSION) throw invalid(`manifest version ${String(m.version)} is not supported (this build reads ${ARTIFACT_VERSION})`);
  if (typeof m.store !== 'string' || !Number.isSafeInteger(m.seq) || (m.seq as number) < 0 || typeof m.createdAt !== 'string' || !Array.isArray(m.files)) {
    throw invalid('manifest fields are missing or of the wrong type');
  }
  if (m.files.length > ARTIFACT_MAX_FILES) throw invalid('too many files');
  const names = new Set<string>();
  let snapshots = 0;
  for (const file of m.files as unknown[]) {
    const f = file as Partial<ManifestFile> | null;
    if (!f || typeof f.name !== 'string' || !isArtifactFileName(f.name) || !Number.isSafeInteger(f.size) || (f.size as number) < 0 || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) {
      throw invalid(`manifest file entry ${JSON.stringify(file)?.slice(0, 80)} is invalid`);
    }
    if (names.has(f.name)) throw invalid(`file ${f.name} is listed twice`);
    names.add(f.name);
    const snapshotSeq = parseSnapshotName(f.name);
    if (snapshotSeq !== undefined) {
      snapshots++;
      if (snapshotSeq !== m.seq) throw invalid(`snapshot ${f.name} does not match seq ${m.seq}`);
    }
  }
  if (snapshots !== 1) throw invalid(`the manifest lists ${snapshots} snapshots; exactly one is needed`);
  return m as ExportManifest;
}

/** Lowercase hex of bytes (for SHA-256 digests). */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
