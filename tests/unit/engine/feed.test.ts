/** The change feed in the engine: history from the WAL, live waits, filters, resets, retention. */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import type { ScanRange } from '../../../src/protocol.js';
import { del, machine, openEngine, put, untext } from '../support/engine.js';

/** Every change after `since` as `seq:op key=value` strings, following resets through their view. */
async function drain(engine: Engine, since: number, range: ScanRange = {}): Promise<{ lines: string[]; resets: number[] }> {
  const lines: string[] = [];
  const resets: number[] = [];
  let cursor = since;
  for (;;) {
    const page = await engine.readChanges(cursor, range, 3, 0);
    if (page.kind === 'reset') {
      resets.push(page.seq);
      let after: string | undefined;
      for (;;) {
        const state = engine.readResetView(page.view, after, range, 2);
        for (const [key, value] of state.entries) lines.push(`${page.seq}:state ${key}=${untext.decode(value)}`);
        after = state.entries[state.entries.length - 1]?.[0];
        if (state.done) break;
      }
      cursor = page.seq;
      continue;
    }
    for (const change of page.changes) {
      lines.push(`${change.seq}:${change.ops.map((op) => (op.type === 'put' ? `put ${op.key}=${untext.decode(op.value)}` : `del ${op.key}`)).join(',')}`);
    }
    if (page.next === cursor) return { lines, resets };
    cursor = page.next;
  }
}

describe('change feed', () => {
  it('replays every record after since, in order, across compactions and reopen', async () => {
    const m = machine();
    let engine = await openEngine(m);
    await engine.commit([[put('a', '1')], [put('b', '2'), del('a')]]);
    await engine.compact();
    await engine.commit([[put('c', '3')]]);
    await engine.close();
    engine = await openEngine(m);
    await engine.commit([[del('b')]]);
    expect((await drain(engine, 0)).lines).toEqual(['1:put a=1', '2:put b=2,del a', '3:put c=3', '4:del b']);
    expect((await drain(engine, 2)).lines).toEqual(['3:put c=3', '4:del b']);
    expect((await drain(engine, 4)).lines).toEqual([]);
  });

  it('filters ops by prefix and bounds, skipping records with none', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([[put('todo:1', 'a')], [put('note:1', 'b')], [put('todo:2', 'c'), put('note:2', 'd')], [del('todo:1')]]);
    expect((await drain(engine, 0, { prefix: 'todo:' })).lines).toEqual(['1:put todo:1=a', '3:put todo:2=c', '4:del todo:1']);
    expect((await drain(engine, 0, { gte: 'note:', lt: 'note:2' })).lines).toEqual(['2:put note:1=b']);
  });

  it('waits for the next commit when caught up', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([[put('a', '1')]]);
    const waiting = engine.readChanges(1, {}, 10, 5_000);
    setTimeout(() => void engine.commit([[put('b', '2')]]), 10);
    const page = await waiting;
    expect(page).toMatchObject({ kind: 'changes', next: 2, changes: [{ seq: 2 }] });
  });

  it('resets with the full state when history was retired, and when since is ahead', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([[put('a', '1')], [put('b', '2')]]);
    await engine.compact();
    await engine.commit([[put('a', '3')]]);
    await engine.compact();
    await engine.commit([[del('b')], [put('c', '4')]]);
    await engine.compact(); // retires the log up to seq 2
    const { lines, resets } = await drain(engine, 1);
    expect(resets).toEqual([5]);
    expect(lines).toEqual(['5:state a=3', '5:state c=4']);
    expect((await drain(engine, 99)).resets).toEqual([5]);
  });

  it('keeps the history a checkpoint stream needs, within historyBytes', async () => {
    const m = machine();
    m.catalog.floors.set('test', 1);
    const engine = await openEngine(m);
    for (let round = 0; round < 4; round++) {
      await engine.commit([[put(`k${round}`, 'v'.repeat(20))]]);
      await engine.compact();
    }
    // The stream at seq 1 still gets every record after it.
    expect((await drain(engine, 1)).lines).toEqual(['2:put k1=' + 'v'.repeat(20), '3:put k2=' + 'v'.repeat(20), '4:put k3=' + 'v'.repeat(20)]);
    // With a budget too small for it, the old history goes and the stream is reset.
    const small = machine();
    small.catalog.floors.set('test', 1);
    const tight = await openEngine(small, { historyBytes: 10 });
    for (let round = 0; round < 4; round++) {
      await tight.commit([[put(`k${round}`, 'v'.repeat(20))]]);
      await tight.compact();
    }
    expect((await drain(tight, 1)).resets).toEqual([4]);
  });

  it('a reset view stays readable while compactions run', async () => {
    const m = machine();
    const engine = await openEngine(m);
    for (let i = 0; i < 5; i++) await engine.commit([[put(`k${i}`, `v${i}`)]]);
    await engine.compact();
    await engine.commit([[put('x', '1')]]);
    await engine.compact();
    await engine.commit([[put('y', '2')]]);
    await engine.compact();
    const page = await engine.readChanges(0, {}, 10, 0);
    expect(page.kind).toBe('reset');
    if (page.kind !== 'reset') return;
    const first = engine.readResetView(page.view, undefined, {}, 2);
    // The state keeps changing and compacting underneath the view.
    for (let i = 0; i < 5; i++) await engine.commit([[del(`k${i}`)]]);
    await engine.compact();
    await engine.compact();
    let after = first.entries[first.entries.length - 1]![0];
    const rest: string[] = [];
    for (;;) {
      const next = engine.readResetView(page.view, after, {}, 2);
      rest.push(...next.entries.map(([k]) => k));
      if (next.done) break;
      after = next.entries[next.entries.length - 1]![0];
    }
    expect([...first.entries.map(([k]) => k), ...rest]).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'x', 'y']);
  });
});
