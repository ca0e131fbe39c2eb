/**
 * The worker's test hooks, enabled only by `walden/testing`: stop at a compaction point, block
 * the thread (a hung or frozen tab), die after applying a commit without answering it.
 */
import type { CompactionPoint, StallPoint } from '../protocol.js';

/** Send a message to this worker's page (outside Comlink: the page's test kit listens for it). */
export function postToPage(message: unknown): void {
  (self as unknown as { postMessage(message: unknown): void }).postMessage(message);
}

/** A hung tab: nothing else runs on this thread for `ms`. */
export function blockThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hung
  }
}

/**
 * A compaction hook that stops the engine at `point` and tells the page, which then terminates
 * this worker (a worker cannot stop itself mid-task).
 */
export function crashAt(point: CompactionPoint, halt: () => void): (at: CompactionPoint) => void {
  return (at) => {
    if (at !== point) return;
    halt();
    postToPage({ waldenTestingCrash: at });
    throw new Error(`walden/testing: crashed at compaction point ${at}`);
  };
}

/** The hooks one worker's tests armed. */
export class TestingHooks {
  /** Apply this many more forwarded commits, then die without answering the last. */
  #crashBeforeAnswer = 0;
  /** Block the thread inside the next commit, at this point. */
  #stallAt: { point: StallPoint; ms: number } | undefined;
  /** Crash inside the next takeover. */
  #crashOnTakeover = false;

  /** Block now, or arm a block at a point inside the next commit. */
  stall(ms: number, at: StallPoint): void {
    if (at === 'now') blockThread(ms);
    else this.#stallAt = { point: at, ms };
  }

  /** The engine's pause hook: blocks once, at the armed point. */
  readonly pause = (point: StallPoint): void => {
    if (this.#stallAt?.point !== point) return;
    const { ms } = this.#stallAt;
    this.#stallAt = undefined;
    blockThread(ms);
  };

  /** Arm a crash after `commits` more forwarded commits are applied. */
  crashBeforeAnswer(commits: number): void {
    this.#crashBeforeAnswer = commits;
  }

  /** Arm a crash in the middle of this worker's next takeover. */
  crashOnTakeover(): void {
    this.#crashOnTakeover = true;
  }

  /** Whether this takeover is the one to die in (once its files are open, before it serves). */
  dieInTakeover(takeover: boolean): boolean {
    if (!takeover || !this.#crashOnTakeover) return false;
    this.#crashOnTakeover = false;
    return true;
  }

  /** Whether the forwarded commit just applied is the one to die on (without answering). */
  dieNow(): boolean {
    return this.#crashBeforeAnswer > 0 && --this.#crashBeforeAnswer === 0;
  }
}
