/** Entries kept in key order in the page (live results, Level snapshots): where a key goes, and a range scan. */
import type { ScanRange } from '../protocol.js';
import { keyInRange } from '../keys.js';

/**
 * Where `key` is, or would go, in `entries` sorted by key (ascending, or descending when
 * `reverse`): the first index whose key is not before `key` in that order.
 */
export function positionOf(entries: readonly (readonly [string, ...unknown[]])[], key: string, reverse = false): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = entries[mid]![0];
    if (reverse ? at > key : at < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `store.scanAt` over `entries` kept in key order (a Level snapshot's): a binary search to where the range
 * starts in its iteration order, then only the entries it yields, up to its limit.
 */
export function scanSorted(entries: readonly [string, unknown][], range: ScanRange): [string, unknown][] {
  const limit = range.limit ?? Number.POSITIVE_INFINITY;
  const found: [string, unknown][] = [];
  const lower = [range.gte, range.gt, range.prefix].reduce<string | undefined>((a, b) => (b !== undefined && (a === undefined || b > a) ? b : a), undefined);
  const upper = [range.lte, range.lt].reduce<string | undefined>((a, b) => (b !== undefined && (a === undefined || b < a) ? b : a), undefined);
  if (!range.reverse) {
    for (let i = lower === undefined ? 0 : positionOf(entries, lower); i < entries.length && found.length < limit; i++) {
      const entry = entries[i]!;
      if (upper !== undefined && entry[0] > upper) break;
      if (keyInRange(entry[0], range)) found.push(entry);
    }
  } else {
    // The first entry past `upper` in ascending order, then backwards.
    let i = upper === undefined ? entries.length : positionOf(entries, upper);
    if (upper !== undefined && entries[i]?.[0] === upper) i++;
    for (i -= 1; i >= 0 && found.length < limit; i--) {
      const entry = entries[i]!;
      if (lower !== undefined && entry[0] < lower) break;
      if (keyInRange(entry[0], range)) found.push(entry);
    }
  }
  return found;
}
