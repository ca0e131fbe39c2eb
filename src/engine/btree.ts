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

/**
 * JavaScript string order, the order of every index and snapshot. The package's default
 * comparator gives the same order for strings, but after number, type and `valueOf` checks that
 * a profile of compaction showed taking 18% of the worker's time.
 */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An empty tree of string keys in {@link compareKeys} order. */
export function emptyTree<V>(): BTree<string, V> {
  return new BTree<string, V>(undefined, compareKeys);
}

interface NodeShape<V> {
  keys: string[];
  values?: V[];
  children?: NodeShape<V>[];
}
interface TreeShape<V> {
  _root: NodeShape<V>;
  _size: number;
  _maxNodeSize: number;
}

/** The package's leaf and internal node classes, taken from a small tree; undefined if its internals differ. */
function nodeClasses(): { Leaf: new (keys: string[], values: unknown[]) => NodeShape<unknown>; Internal: new (children: NodeShape<unknown>[]) => NodeShape<unknown> } | undefined {
  const sample = new BTree<string, number>(undefined, undefined, 4);
  for (let i = 0; i < 5; i++) sample.set(`k${i}`, i);
  const root = (sample as unknown as TreeShape<number>)._root;
  const leaf = root?.children?.[0];
  if (!root || !leaf || !Array.isArray(leaf.keys) || !Array.isArray(leaf.values) || !Array.isArray(root.children)) return undefined;
  return { Leaf: leaf.constructor as never, Internal: root.constructor as never };
}

/** The bounds `[start, end)` of `count` items split into groups of at most `max`, as even as possible (none under half full). */
function groupBounds(count: number, max: number): number[] {
  const groups = Math.ceil(count / max);
  const bounds: number[] = [];
  for (let g = 0; g <= groups; g++) bounds.push(Math.floor((g * count) / groups));
  return bounds;
}

/**
 * A tree of `keys` (strictly ascending, in the tree's order) with their `values`, built bottom-up
 * in O(n) without comparing keys: what opening a snapshot needs. Falls back to `set` one by one if
 * the package's internals are not the ones this was written against (checked by the unit tests).
 */
export function bulkLoad<V>(keys: string[], values: V[]): BTree<string, V> {
  const tree = emptyTree<V>();
  const shape = tree as unknown as TreeShape<V>;
  const classes = keys.length > 0 ? nodeClasses() : undefined;
  if (!classes || typeof shape._maxNodeSize !== 'number') {
    for (let i = 0; i < keys.length; i++) tree.set(keys[i]!, values[i]!);
    return tree;
  }
  const max = shape._maxNodeSize;
  const leaves = groupBounds(keys.length, max);
  let level: NodeShape<unknown>[] = [];
  for (let g = 0; g + 1 < leaves.length; g++) level.push(new classes.Leaf(keys.slice(leaves[g], leaves[g + 1]), values.slice(leaves[g], leaves[g + 1])));
  while (level.length > 1) {
    const bounds = groupBounds(level.length, max);
    const next: NodeShape<unknown>[] = [];
    for (let g = 0; g + 1 < bounds.length; g++) next.push(new classes.Internal(level.slice(bounds[g], bounds[g + 1])));
    level = next;
  }
  shape._root = level[0] as NodeShape<V>;
  shape._size = keys.length;
  return tree;
}
