/**
 * The live queries behind `walden/react`, against a model store whose every answer fast-check's
 * scheduler may delay: reads served at one moment and answered later, a watch that lags the
 * writes by any amount. Every result shown must be the range's exact state at some seq, never
 * older than the one shown before, and the last one the final state.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LiveQueries, type Entry } from '../../../src/adapters/live.js';
import type { Change, ChangeOp } from '../../../src/client/feed.js';
import type { Store } from '../../../src/client/store.js';
import type { ScanRange } from '../../../src/protocol.js';
import { keyInRange } from '../../../src/keys.js';

type Scheduler = fc.Scheduler;

/** A store of keys `k0`..`k5` whose reads, info and watch deliveries resolve when the scheduler says. */
class ModelStore {
  readonly log: Change[] = [];
  readonly #state = new Map<string, { value: unknown; seq: number }>();
  #wake: (() => void) | undefined;
  constructor(readonly s: Scheduler) {}

  get seq(): number {
    return this.log.length;
  }

  write(ops: ChangeOp[]): void {
    const seq = this.log.length + 1;
    for (const op of ops) {
      if (op.type === 'put') this.#state.set(op.key, { value: op.value, seq });
      else this.#state.delete(op.key);
    }
    this.log.push({ type: 'change', seq, ops });
    this.#wake?.();
  }

  /** The entries of `range` after exactly the records up to `seq`. */
  stateAt(seq: number, range: ScanRange): [string, unknown][] {
    const state = new Map<string, unknown>();
    for (const change of this.log.slice(0, seq)) {
      if (change.type !== 'change') continue;
      for (const op of change.ops) op.type === 'put' ? state.set(op.key, op.value) : state.delete(op.key);
    }
    const entries = [...state].filter(([key]) => keyInRange(key, range)).sort(([a], [b]) => (a < b ? -1 : 1));
    return range.limit === undefined ? entries : entries.slice(0, range.limit);
  }

  info = async () => this.s.schedule(Promise.resolve()).then(() => ({ seq: this.seq }));

  // Served at one scheduled moment, answered at a later one (writes and deliveries may come between).
  scanAt = async (range: ScanRange) => {
    await this.s.schedule(Promise.resolve(), 'serve read');
    const seq = this.seq;
    const entries = this.stateAt(seq, range).map(([key, value]): [string, unknown, number] => [key, value, this.#state.get(key)?.seq ?? 0]);
    // writtenSeq must be the seq of the last write of the key up to `seq`: recompute from the log.
    for (const entry of entries) entry[2] = this.#lastWrite(entry[0], seq);
    return this.s.schedule(Promise.resolve({ entries, seq }), 'answer read');
  };

  #lastWrite(key: string, upTo: number): number {
    for (let i = upTo - 1; i >= 0; i--) if ((this.log[i] as Extract<Change, { type: 'change' }>).ops.some((op) => op.key === key)) return i + 1;
    return 0;
  }

  async *watch({ since }: { since: number }): AsyncGenerator<Change> {
    let cursor = since;
    for (;;) {
      while (cursor < this.log.length) {
        await this.s.schedule(Promise.resolve(), 'deliver');
        yield this.log[cursor++]!;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}

const opArb: fc.Arbitrary<ChangeOp[]> = fc.array(
  fc.oneof(
    fc.record({ type: fc.constant('put' as const), key: fc.constantFrom('k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'x'), value: fc.nat(1000) }),
    fc.record({ type: fc.constant('del' as const), key: fc.constantFrom('k0', 'k1', 'k2', 'k3', 'x') }),
  ),
  { minLength: 1, maxLength: 3 },
);

const RANGES: Record<string, ScanRange> = { all: { prefix: 'k' }, some: { gte: 'k1', lt: 'k4' }, limited: { prefix: 'k', limit: 2 }, one: { gte: 'k2', lte: 'k2' } };

describe('live queries', () => {
  it('show only exact states, in seq order, ending at the final state, whatever the timing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(opArb, { minLength: 1, maxLength: 25 }), fc.array(fc.nat(25), { minLength: 4, maxLength: 4 }), async (s, writes, subscribeAt) => {
        const store = new ModelStore(s);
        const live = LiveQueries.of(store as unknown as Store);
        const problems: string[] = [];
        const lastSeq = new Map<string, number>();
        const last = new Map<string, readonly Entry[]>();
        const subscribe = (id: string) =>
          live.subscribe(id, RANGES[id]!, () => {
            const shown = live.result(id)!;
            const plain = JSON.stringify(shown);
            // The earliest seq (not before the last shown one) whose state this is.
            const from = lastSeq.get(id) ?? 0;
            let at = from;
            while (at <= store.seq && JSON.stringify(store.stateAt(at, RANGES[id]!)) !== plain) at++;
            if (at > store.seq) return void problems.push(`${id}: ${plain} is no state at or after seq ${from}`);
            lastSeq.set(id, at);
            // The latest seq with this state (a put of the same value gives the same state at a later seq, and
            // rightly a new entry): an entry whose key was not written from `from` to there keeps its identity.
            let latest = store.seq;
            while (JSON.stringify(store.stateAt(latest, RANGES[id]!)) !== plain) latest--;
            const writtenBetween = (key: string) => store.log.slice(from, latest).some((c) => c.type === 'change' && c.ops.some((op) => op.key === key));
            const before = last.get(id);
            if (before) for (const entry of shown) {
              const old = before.find(([key]) => key === entry[0]);
              if (old && old !== entry && !writtenBetween(entry[0])) problems.push(`${id}: ${entry[0]} lost its identity`);
            }
            last.set(id, shown);
          });
        // Writes and subscriptions happen in an order the scheduler picks.
        const ids = Object.keys(RANGES);
        const steps = writes.map((ops, i) => ({ kind: 'write' as const, ops, i }));
        const plan: ({ kind: 'write'; ops: ChangeOp[] } | { kind: 'subscribe'; id: string })[] = [...steps];
        ids.forEach((id, j) => plan.splice(Math.min(subscribeAt[j]!, plan.length), 0, { kind: 'subscribe', id }));
        s.scheduleSequence(plan.map((step) => ({ label: step.kind === 'write' ? 'write' : `subscribe ${step.id}`, builder: async () => (step.kind === 'write' ? store.write(step.ops) : void subscribe(step.id)) })));
        await s.waitIdle();
        for (const id of ids) {
          const final = JSON.stringify(store.stateAt(store.seq, RANGES[id]!));
          if (JSON.stringify(live.result(id)) !== final) problems.push(`${id}: ends at ${JSON.stringify(live.result(id))}, not the final ${final}`);
        }
        expect(problems).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

