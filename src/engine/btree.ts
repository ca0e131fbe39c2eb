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

/** Split `items` into groups of at most `max`, as even as possible (so none is under half full). */
function groups<T>(items: T[], max: number): T[][] {
  const count = Math.ceil(items.length / max);
  const out: T[][] = [];
  for (let g = 0; g < count; g++) out.push(items.slice(Math.floor((g * items.length) / count), Math.floor(((g + 1) * items.length) / count)));
  return out;
}

/**
 * A tree of `keys` (strictly ascending, in the tree's order) with their `values`, built bottom-up
 * in O(n) without comparing keys: what opening a snapshot needs. Falls back to `set` one by one if
 * the package's internals are not the ones this was written against (checked by the unit tests).
 */
export function bulkLoad<V>(keys: string[], values: V[]): BTree<string, V> {
  const tree = new BTree<string, V>();
  const shape = tree as unknown as TreeShape<V>;
  const classes = keys.length > 0 ? nodeClasses() : undefined;
  if (!classes || typeof shape._maxNodeSize !== 'number') {
    for (let i = 0; i < keys.length; i++) tree.set(keys[i]!, values[i]!);
    return tree;
  }
  const max = shape._maxNodeSize;
  const indexes = groups(Array.from({ length: keys.length }, (_, i) => i), max);
  let level: NodeShape<unknown>[] = indexes.map((group) => new classes.Leaf(group.map((i) => keys[i]!), group.map((i) => values[i])));
  while (level.length > 1) level = groups(level, max).map((children) => new classes.Internal(children));
  shape._root = level[0] as NodeShape<V>;
  shape._size = keys.length;
  return tree;
}
