/**
 * The ordered index: `sorted-btree`'s B+ tree, whose O(1) copy-on-write `clone()` gives
 * compaction a frozen view. The package is CommonJS with `exports.default`; bundlers disagree on
 * whether a default import yields the class or the exports object, so take whichever it is.
 */
import * as sortedBtree from 'sorted-btree';
import type BTreeClass from 'sorted-btree';

type BTreeConstructor = typeof BTreeClass;
const imported = (sortedBtree as unknown as { default: BTreeConstructor | { default: BTreeConstructor } }).default;

/** The B+ tree class. */
export const BTree: BTreeConstructor = typeof imported === 'function' ? imported : imported.default;
/** An ordered map from keys to values. */
export type BTree<K, V> = BTreeClass<K, V>;
