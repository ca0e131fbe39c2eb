/**
 * `store.consume()`: the usual consumer loop — resume from the latest checkpoint, watch, and
 * checkpoint every N changes or T ms — so an app writes the handler and nothing else.
 */
import type { Checkpoint, Checkpoints } from './checkpoints.js';
import type { Change, FeedItem, WatchOptions } from './feed.js';

/** Options of `store.consume()`. */
export interface ConsumeOptions extends Omit<WatchOptions, 'since'> {
  /** Checkpoint after this many changes (default 100). */
  every?: number;
  /** ...or once this long has passed since the last checkpoint with changes pending (default 1000 ms). */
  everyMs?: number;
  /** Restore derived state from the checkpoint resumed from (undefined on the first run). */
  restore?: (checkpoint: Checkpoint | undefined) => void | Promise<void>;
  /** The derived state to save with each checkpoint. */
  snapshot?: () => Record<string, Uint8Array> | Promise<Record<string, Uint8Array>>;
}

/** A running consumer. */
export interface Consumer {
  /** Stop after the change in hand, save a last checkpoint, and resolve. */
  stop(): Promise<void>;
  /** Settles when the consumer ends: resolved by `stop()` or store close, rejected by a failing handler. */
  readonly done: Promise<void>;
}

/**
 * @internal Run `handler` over the feed from the latest checkpoint of `stream`. A `reset` change
 * tells the handler to drop its derived state; the state that follows rebuilds it.
 */
export function runConsumer(
  stream: string,
  handler: (change: Change) => void | Promise<void>,
  options: ConsumeOptions,
  checkpoints: Checkpoints,
  openFeed: (since: number, isStopped: () => boolean) => AsyncGenerator<FeedItem>,
  wakeFeeds: () => Promise<void>,
): Consumer {
  if (typeof handler !== 'function') throw new TypeError('consume needs a handler function');
  const every = options.every ?? 100;
  const everyMs = options.everyMs ?? 1000;
  if (!(Number.isInteger(every) && every > 0)) throw new TypeError('every must be a positive integer');
  let stopped = false;
  let items: AsyncGenerator<FeedItem> | undefined;
  const done = (async () => {
    const latest = await checkpoints.latest(stream);
    await options.restore?.(latest);
    let sequence = latest?.sequence ?? 0;
    let eventCount = latest?.eventCount ?? 0;
    let pending = 0;
    let lastSave = Date.now();
    // During a reset the state arrives in pieces: a checkpoint there would resume mid-state.
    let inReset = false;
    const save = async () => {
      if (pending === 0 || inReset) return;
      await checkpoints.save(stream, { sequence, eventCount, watermark: Date.now(), operatorStates: (await options.snapshot?.()) ?? {}, sourceOffsets: { [stream]: sequence } });
      pending = 0;
      lastSave = Date.now();
    };
    items = openFeed(sequence, () => stopped);
    for await (const item of items) {
      if (item.type === 'synced') {
        inReset = false;
        sequence = item.seq;
        pending++;
      } else {
        if (item.type === 'reset') inReset = true;
        await handler(item);
        eventCount++;
        if (!inReset) {
          sequence = item.seq;
          pending++;
        }
      }
      if (pending >= every || (pending > 0 && Date.now() - lastSave >= everyMs)) await save();
      if (stopped) break;
    }
    await save();
  })();
  return {
    done,
    async stop() {
      stopped = true;
      // A feed waiting in the worker for the next commit: wake it so it sees the stop at once.
      await wakeFeeds();
      await done;
    },
  };
}
