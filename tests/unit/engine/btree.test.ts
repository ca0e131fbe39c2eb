/** bulkLoad builds the same tree as inserting one by one, valid by the package's own check, and it stays usable. */
import { describe, expect, it } from 'vitest';
import { BTree, bulkLoad } from '../../../src/engine/btree.js';

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `k${String(i).padStart(7, '0')}`);

describe('bulkLoad', () => {
  it.each([0, 1, 2, 31, 32, 33, 64, 65, 1000, 33_333])('%i keys: valid, equal to one-by-one inserts, and still updatable', (n) => {
    const keys = keysOf(n);
    const tree = bulkLoad(keys, keys.map((_, i) => i));
    tree.checkValid();
    expect(tree.size).toBe(n);
    const reference = new BTree<string, number>();
    keys.forEach((k, i) => reference.set(k, i));
    expect([...tree.entries()]).toEqual([...reference.entries()]);
    if (n > 0) {
      expect(tree.get(keys[n >> 1]!)).toBe(n >> 1);
      expect([...tree.entriesReversed(keys[n - 1])].length).toBe(n);
    }
    // Inserts, overwrites and deletes after loading keep it valid; clones stay independent.
    const clone = tree.clone();
    for (let i = 0; i < n; i += 3) tree.delete(keys[i]!);
    for (let i = 0; i < 50; i++) tree.set(`k${String(i * 7).padStart(7, '0')}x`, -i);
    tree.set('a', 1);
    tree.checkValid();
    clone.checkValid();
    expect(clone.size).toBe(n);
  });
});
