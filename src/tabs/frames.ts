/**
 * A follower's copy of the recent change stream, built from the leader's frames: a contiguous
 * run of records `[first, last]`. A frame that does not continue the run (a gap: `expected`
 * is not `got`) restarts it, so the copy never has a hole; readers asking for what the copy
 * does not hold go to the leader, which serves its log or, if that is gone, a snapshot of
 * the state (a reset). The replication seed's rule: an offset gap means resync, never skip.
 */
import type { EncodedChange, ScanRange } from '../protocol.js';
import { keyInRange } from '../keys.js';

/** Records a follower keeps by default. */
export const FRAME_RING_RECORDS = 4096;

/** What {@link FrameRing.read} found. */
export type RingRead = { kind: 'changes'; changes: EncodedChange[]; next: number } | { kind: 'miss' };

/** The contiguous recent records of one leader epoch. */
export class FrameRing {
  #changes: EncodedChange[] = [];
  #epoch = 0;
  /** Frames that did not continue the run. */
  gaps = 0;
  readonly #waiters = new Set<() => void>();

  constructor(readonly capacity = FRAME_RING_RECORDS) {}

  /** The last seq held, or undefined when empty. */
  get last(): number | undefined {
    return this.#changes[this.#changes.length - 1]?.seq;
  }

  /** The first seq held, or undefined when empty. */
  get first(): number | undefined {
    return this.#changes[0]?.seq;
  }

  /** Add a frame; frames of an older epoch are ignored, a newer epoch starts afresh. */
  add(epoch: number, changes: readonly EncodedChange[]): void {
    if (epoch < this.#epoch || changes.length === 0) return;
    if (epoch > this.#epoch) {
      this.#epoch = epoch;
      this.#changes = [];
    }
    for (const change of changes) {
      const expected = this.last === undefined ? change.seq : this.last + 1;
      if (change.seq < expected) continue; // already held
      if (change.seq > expected) {
        this.gaps++;
        this.#changes = [];
      }
      this.#changes.push(change);
    }
    if (this.#changes.length > this.capacity) this.#changes.splice(0, this.#changes.length - this.capacity);
    for (const wake of [...this.#waiters]) wake();
  }

  /** Forget everything (the leader changed, or this worker now leads). */
  clear(): void {
    this.#changes = [];
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * Records after `since` in `range`, if the run covers `since + 1` onwards (or `since` is its
   * last seq and `waitMs` passes without a new frame); otherwise a miss.
   */
  async read(since: number, range: ScanRange, maxRecords: number, waitMs: number): Promise<RingRead> {
    if (this.last === since && waitMs > 0) await this.#wait(waitMs);
    const first = this.first;
    const last = this.last;
    if (first === undefined || last === undefined || since < first - 1 || since > last) return { kind: 'miss' };
    const changes: EncodedChange[] = [];
    let next = since;
    for (let i = since + 1 - first; i < this.#changes.length && changes.length < maxRecords; i++) {
      const change = this.#changes[i]!;
      next = change.seq;
      const ops = change.ops.filter((op) => keyInRange(op.key, range));
      if (ops.length > 0) changes.push({ seq: change.seq, ops });
    }
    return { kind: 'changes', changes, next };
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
}
