/**
 * Test-only hooks, active only when `walden/testing` installed `globalThis.__waldenTesting` in the
 * page before it loaded: a registry of store workers, a log of acknowledged writes, and crash
 * triggers. Without that global (every production page) they cost one property read per open.
 */
import type { CompactionPoint, StallPoint, TabRole, ValueOp } from '../protocol.js';

/** What `walden/testing` puts on `globalThis.__waldenTesting`. */
export interface TestingGlobal {
  /** The worker of each open store, by name. */
  workers: Record<string, Worker>;
  /** Per store: the last acknowledged write of each key, and the highest acknowledged seq. */
  acked: Record<string, { seq: number; writes: Record<string, [seq: number, type: 'put' | 'del']> }>;
  /** Terminate the store's worker once this many more records are acknowledged. */
  crashAfterCommits?: { store?: string; commits: number };
  /** Crash the worker at this point of its next compaction. */
  crashAtCompactionPoint?: CompactionPoint;
  /** Set when a worker crashed at a compaction point: the point. */
  crashed?: string;
  /** Per store: its role in this tab, and a way to block its worker's thread (a hung tab). */
  tabs?: Record<string, { role(): TabRole; hang(ms: number, at?: StallPoint): void }>;
}

/** The installed testing global, or undefined (always, outside tests). */
export function testingGlobal(): TestingGlobal | undefined {
  return (globalThis as { __waldenTesting?: TestingGlobal }).__waldenTesting;
}

/** Register a store's worker and its crash triggers; returns the acknowledgement hook. */
export function attachTesting(testing: TestingGlobal, store: string, worker: Worker, tab: { role(): TabRole; hang(ms: number, at?: StallPoint): void }): (ops: ValueOp[], seq: number) => void {
  testing.workers[store] = worker;
  (testing.tabs ??= {})[store] = tab;
  worker.addEventListener('message', (event: MessageEvent) => {
    const point = (event.data as { waldenTestingCrash?: string } | null)?.waldenTestingCrash;
    if (!point) return;
    worker.terminate();
    testing.crashed = point;
  });
  const log = (testing.acked[store] ??= { seq: 0, writes: {} });
  return (ops, seq) => {
    for (const op of ops) log.writes[op.key] = [seq, op.type];
    log.seq = Math.max(log.seq, seq);
    const trigger = testing.crashAfterCommits;
    if (trigger && (trigger.store === undefined || trigger.store === store) && --trigger.commits <= 0) {
      testing.crashAfterCommits = undefined;
      worker.terminate();
    }
  };
}
