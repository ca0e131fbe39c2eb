/**
 * The export artifact's parts that read untrusted input: tar headers (golden bytes of the
 * ustar header Walden writes, and what is refused) and the manifest.
 */
import { describe, expect, it } from 'vitest';
import { decodeTarHeader, encodeTarHeader, MANIFEST_MAX_BYTES, parseManifest, TAR_BLOCK_BYTES } from '../../../src/format/artifact.js';

const text = (s: string) => new TextEncoder().encode(s);
const SHA = 'a'.repeat(64);
const manifest = (over: Record<string, unknown> = {}) =>
  text(JSON.stringify({ format: 'walden-export', version: 1, store: 's', seq: 5, createdAt: '2026-12-03T00:00:00.000Z', files: [{ name: 'snap-0000000000000005.db', size: 10, sha256: SHA }], ...over }));

describe('tar headers', () => {
  it('writes a ustar header byte for byte, and reads it back', () => {
    const header = encodeTarHeader('snap-0000000000000005.db', 1234, 1_700_000_000_000);
    expect(header.byteLength).toBe(TAR_BLOCK_BYTES);
    const field = (at: number, length: number) => new TextDecoder().decode(header.subarray(at, at + length));
    expect(field(0, 24)).toBe('snap-0000000000000005.db');
    expect(field(100, 8)).toBe('0000644\0');
    expect(field(124, 12)).toBe('00000002322\0'); // 1234 in octal
    expect(field(136, 12)).toBe('14524770400\0'); // 1,700,000,000 s in octal
    // The checksum: the sum of all 512 bytes with the field itself counted as spaces, in octal, as tar writes it.
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    expect(field(148, 8)).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
    expect(field(156, 1)).toBe('0');
    expect(field(257, 8)).toBe('ustar\u000000');
    expect(decodeTarHeader(header)).toEqual({ kind: 'file', name: 'snap-0000000000000005.db', size: 1234 });
    expect(decodeTarHeader(new Uint8Array(TAR_BLOCK_BYTES))).toEqual({ kind: 'end' });
  });

  it('refuses damaged headers, paths, links and foreign names', () => {
    const good = encodeTarHeader('checkpoint-0.ckpt', 5, 0);
    const damaged = good.slice();
    damaged[0] = 0x78;
    const link = good.slice();
    link[156] = 0x32;
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 100), /truncated/],
      [damaged, /checksum/],
      [encodeTarHeader('../snap-0000000000000005.db', 5, 0), /unexpected file/],
      [encodeTarHeader('notes.txt', 5, 0), /unexpected file/],
    ];
    for (const [header, why] of cases) expect(decodeTarHeader(header)).toEqual({ kind: 'invalid', why: expect.stringMatching(why) });
    // A link entry, with its checksum made right again, is still refused.
    let sum = 0;
    for (let i = 0; i < TAR_BLOCK_BYTES; i++) sum += i >= 148 && i < 156 ? 0x20 : link[i]!;
    link.set(text(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    expect(decodeTarHeader(link)).toEqual({ kind: 'invalid', why: expect.stringMatching(/regular file/) });
  });
});

describe('manifest', () => {
  it('accepts a well-formed one', () => {
    expect(parseManifest(manifest())).toMatchObject({ kind: 'manifest', manifest: { store: 's', seq: 5, files: [{ name: 'snap-0000000000000005.db' }] } });
  });

  it('refuses anything else, saying why', () => {
    const cases: [Uint8Array, RegExp][] = [
      [text('{not json'), /not JSON/],
      [Uint8Array.of(0xff, 0xfe), /not JSON/],
      [new Uint8Array(MANIFEST_MAX_BYTES + 1).fill(0x20), /at most/],
      [manifest({ format: 'tar' }), /not a Walden export/],
      [manifest({ version: 2 }), /version 2/],
      [manifest({ seq: -1 }), /wrong type/],
      [manifest({ files: 'x' }), /wrong type/],
      [manifest({ files: [] }), /exactly one/],
      [manifest({ files: [{ name: 'snap-0000000000000004.db', size: 1, sha256: SHA }] }), /does not match seq 5/],
      [manifest({ files: [{ name: '../evil', size: 1, sha256: SHA }] }), /invalid/],
      [manifest({ files: [{ name: 'snap-0000000000000005.db', size: -1, sha256: SHA }] }), /invalid/],
      [manifest({ files: [{ name: 'snap-0000000000000005.db', size: 1, sha256: 'XYZ' }] }), /invalid/],
      [manifest({ files: [{ name: 'snap-0000000000000005.db', size: 1, sha256: SHA }, { name: 'snap-0000000000000005.db', size: 1, sha256: SHA }] }), /twice/],
      [manifest({ files: Array.from({ length: 10_002 }, (_, i) => ({ name: `checkpoint-${i}.ckpt`, size: 1, sha256: SHA })) }), /too many|at most/],
    ];
    for (const [bytes, why] of cases) expect(parseManifest(bytes)).toEqual({ kind: 'invalid', why: expect.stringMatching(why) });
  });
});
