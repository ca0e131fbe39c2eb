/** `scanSorted`, the range scan over entries kept in the page (a Level snapshot's), against filtering every entry. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { scanSorted } from '../../../src/adapters/sorted.js';
import type { ScanRange } from '../../../src/protocol.js';
import { keyInRange } from '../../../src/keys.js';

describe('scanSorted', () => {
  it('gives what filtering every entry gives, for any range, direction and limit', () => {
    const key = fc.stringMatching(/^[a-d]{0,3}$/);
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 30 }), fc.record({ prefix: fc.option(key, { nil: undefined }), gt: fc.option(key, { nil: undefined }), gte: fc.option(key, { nil: undefined }), lt: fc.option(key, { nil: undefined }), lte: fc.option(key, { nil: undefined }), reverse: fc.boolean(), limit: fc.option(fc.nat(10), { nil: undefined }) }), (keys, range) => {
        const entries = keys.filter((k) => k.length > 0).sort().map((k): [string, unknown] => [k, k.length]);
        const clean = Object.fromEntries(Object.entries(range).filter(([, v]) => v !== undefined)) as ScanRange;
        const expected = entries.filter(([k]) => keyInRange(k, clean));
        if (clean.reverse) expected.reverse();
        expect(scanSorted(entries, clean)).toEqual(clean.limit === undefined ? expected : expected.slice(0, clean.limit));
      }),
      { numRuns: 2000 },
    );
  });
});
