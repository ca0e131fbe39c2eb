import { describe, expect, it } from 'vitest';
import { decodeUtf8, decodeUtf8At, encodeUtf8, encodeUtf8Into, utf8Length } from '../../../src/format/bytes.js';
import fc from 'fast-check';

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

describe('UTF-8 encoding in place', () => {
  it('writes the same bytes as TextEncoder, at an offset, and says how many', () => {
    for (const text of ['', 'k00012345', 'é', 'naïve key', '日本語', '😀 emoji', `${'a'.repeat(63)}é`, 'a\u{10FFFF}b']) {
      const target = new Uint8Array(5 + text.length * 3).fill(0xee);
      const written = encodeUtf8Into(text, target, 5);
      expect([...target.subarray(5, 5 + written)]).toEqual([...encodeUtf8(text)]);
      expect([...target.subarray(0, 5)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]);
    }
  });
});

describe('UTF-8 length', () => {
  it('is the length TextEncoder writes, lone surrogates included (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }), (text, surrogates) => {
      for (const s of [text, surrogates, text + surrogates]) expect(utf8Length(s)).toBe(encodeUtf8(s).byteLength);
    }));
  });
});
