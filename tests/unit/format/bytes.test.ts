import { describe, expect, it } from 'vitest';
import { decodeUtf8, decodeUtf8At, encodeUtf8 } from '../../../src/format/bytes.js';

describe('UTF-8 decoding', () => {
  it('decodes ASCII, multi-byte and astral text, at an offset inside a larger buffer', () => {
    for (const text of ['', 'k00012345', 'é', 'naïve key', '日本語', '😀 emoji', 'x'.repeat(64), 'y'.repeat(65), `${'a'.repeat(63)}é`]) {
      const encoded = encodeUtf8(text);
      const framed = new Uint8Array(encoded.byteLength + 7).fill(0xff);
      framed.set(encoded, 3);
      expect(decodeUtf8At(framed, 3, encoded.byteLength)).toBe(text);
      expect(decodeUtf8(encoded)).toBe(text);
    }
  });

  it('refuses malformed UTF-8 with a TypeError, on the short path too', () => {
    expect(() => decodeUtf8(Uint8Array.from([0x61, 0xc3]))).toThrow(TypeError);
    expect(() => decodeUtf8(Uint8Array.from([0x61, 0xff, 0x62]))).toThrow(TypeError);
  });
});
