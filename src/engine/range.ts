/** Turning a {@link ScanRange} into iteration over the ordered index. */
import type { BTree } from './btree.js';
import type { ScanRange } from '../protocol.js';
import { isReserved } from '../keys.js';

/** The smallest string greater than every string that starts with `prefix`, or undefined if none. */
export function prefixSuccessor(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

interface Bound {
  key: string;
  inclusive: boolean;
}

function tighterLow(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.key !== b.key) return a.key > b.key ? a : b;
  return a.inclusive ? b : a;
}

function tighterHigh(a: Bound | undefined, b: Bound | undefined): Bound | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.key !== b.key) return a.key < b.key ? a : b;
  return a.inclusive ? b : a;
}

/**
 * Iterate the entries of `index` that fall in `range`, in key order (or reversed),
 * stopping after `max` entries. Walden's reserved keys are never part of a range.
 */
export function* iterateRange<V>(index: BTree<string, V>, range: ScanRange, max: number): Generator<[string, V]> {
  if (max <= 0) return;
  let low = tighterLow(range.gt !== undefined ? { key: range.gt, inclusive: false } : undefined, range.gte !== undefined ? { key: range.gte, inclusive: true } : undefined);
  let high = tighterHigh(range.lt !== undefined ? { key: range.lt, inclusive: false } : undefined, range.lte !== undefined ? { key: range.lte, inclusive: true } : undefined);
  if (range.prefix) {
    low = tighterLow(low, { key: range.prefix, inclusive: true });
    const successor = prefixSuccessor(range.prefix);
    if (successor !== undefined) high = tighterHigh(high, { key: successor, inclusive: false });
  }
  const aboveLow = (key: string) => !low || key > low.key || (low.inclusive && key === low.key);
  const belowHigh = (key: string) => !high || key < high.key || (high.inclusive && key === high.key);
  let count = 0;
  if (!range.reverse) {
    for (const [key, value] of index.entries(low?.key)) {
      if (!aboveLow(key) || isReserved(key)) continue;
      if (!belowHigh(key)) return;
      yield [key, value];
      if (++count >= max) return;
    }
  } else {
    for (const [key, value] of index.entriesReversed(high?.key)) {
      if (!belowHigh(key) || isReserved(key)) continue;
      if (!aboveLow(key)) return;
      yield [key, value];
      if (++count >= max) return;
    }
  }
}
