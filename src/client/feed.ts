/**
 * The page side of the change feed: an async iterator that pulls pages from the worker only when
 * the consumer asks for more (so a slow consumer holds at most one page), follows resets through
 * the frozen state, then waits for live commits.
 */
import type { Remote } from 'comlink';
import { StoreError } from '../errors.js';
import type { EngineApi, ResetPage, ScanRange } from '../protocol.js';
import { assertKey } from '../keys.js';

/** Records per round trip of the feed. */
export const WATCH_PAGE_RECORDS = 256;
/** A caught-up feed asks the worker to hold its request this long for the next commit. */
export const WATCH_WAIT_MS = 20_000;

/** One operation of a {@link Change}. */
export type ChangeOp = { type: 'put'; key: string; value: unknown; expiresAt?: number } | { type: 'del'; key: string };

/**
 * What `watch()` yields: a committed record (a batch is one change), or `reset` when the history
 * before the requested point is gone; the full state at `seq` follows as one change per key.
 */
export type Change = { type: 'change'; seq: number; ops: ChangeOp[] } | { type: 'reset'; seq: number };

/** Options of `store.watch()`. */
export interface WatchOptions {
  /** Deliver records after this seq (default: from now). */
  since?: number;
  /** Only ops whose key starts with this. */
  prefix?: string;
  gte?: string;
  lt?: string;
}

/** @internal A feed item: a change, or the marker that a reset's state has been delivered in full. */
export type FeedItem = Change | { type: 'synced'; seq: number };

/** @internal Check watch options; returns the key filter. */
export function watchRange(options: WatchOptions): ScanRange {
  if (typeof options !== 'object' || options === null) throw new TypeError('watch options must be an object');
  if (options.since !== undefined && !(Number.isSafeInteger(options.since) && options.since >= 0)) throw new TypeError('watch since must be a non-negative integer');
  for (const k of ['prefix', 'gte', 'lt'] as const) if (options[k] !== undefined) assertKey(options[k], `watch ${k}`);
  const range: ScanRange = {};
  if (options.prefix !== undefined) range.prefix = options.prefix;
  if (options.gte !== undefined) range.gte = options.gte;
  if (options.lt !== undefined) range.lt = options.lt;
  return range;
}

/**
 * @internal The feed from `start` (a seq, or a promise of one), with `synced` markers.
 * Ends quietly when the store is closed.
 */
export async function* feed(remote: Remote<EngineApi>, start: number | Promise<number>, range: ScanRange, isClosed: () => boolean, isStopped: () => boolean = () => false): AsyncGenerator<FeedItem> {
  let cursor = await start;
  try {
    for (;;) {
      if (isClosed() || isStopped()) return;
      const page = await remote.readChanges(cursor, range, WATCH_PAGE_RECORDS, WATCH_WAIT_MS);
      if (page.kind === 'reset') {
        yield { type: 'reset', seq: page.seq };
        let after: string | undefined;
        for (;;) {
          const state = await readView(remote, page.view, after, range, isClosed);
          // The view lived in a leader that is gone (a failover): start the reset again from the cursor.
          if (!state) break;
          for (const [key, value] of state.entries) yield { type: 'change', seq: page.seq, ops: [{ type: 'put', key, value }] };
          after = state.entries[state.entries.length - 1]?.[0] ?? after;
          if (state.done) {
            yield { type: 'synced', seq: page.seq };
            cursor = page.seq;
            break;
          }
        }
        continue;
      }
      for (const change of page.changes) yield { type: 'change', seq: change.seq, ops: change.ops as ChangeOp[] };
      cursor = page.next;
    }
  } catch (error) {
    if (isClosed() && error instanceof StoreError && error.code === 'STORE_CLOSED') return;
    throw error;
  }
}

/** A page of a reset view, or undefined when the view is gone (its leader was replaced). */
async function readView(remote: Remote<EngineApi>, view: number, after: string | undefined, range: ScanRange, isClosed: () => boolean): Promise<ResetPage<unknown> | undefined> {
  try {
    return await remote.readResetView(view, after, range, WATCH_PAGE_RECORDS);
  } catch (error) {
    if (!isClosed() && error instanceof StoreError && error.code === 'STORE_VIEW_EXPIRED') return undefined;
    throw error;
  }
}

/** @internal The public form: without the `synced` markers. */
export async function* publicFeed(items: AsyncGenerator<FeedItem>): AsyncGenerator<Change> {
  try {
    for await (const item of items) if (item.type !== 'synced') yield item;
  } finally {
    await items.return(undefined);
  }
}
