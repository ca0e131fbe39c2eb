import { describe, expect, it } from 'vitest';
import type { EncodedOp } from '../../../src/protocol.js';
import { del, dump, machine, openEngine, put, untext } from '../support/engine.js';

describe('Engine', () => {
  it('starts at seq 0 and gives dense seqs', async () => {
    const m = machine();
    const engine = await openEngine(m);
    expect(engine.info().seq).toBe(0);
    expect(await engine.commit([[put('a', '1')]])).toEqual([1]);
    expect(await engine.commit([[put('b', '2')], [del('a')], [del('zz')]])).toEqual([2, 3, 4]);
    expect(engine.info()).toMatchObject({ seq: 4, keys: 1 });
    expect(untext.decode(engine.get('b')!)).toBe('2');
    expect(engine.get('a')).toBeUndefined();
  });

  it('reopens with the same state, clean report', async () => {
    const m = machine();
    let engine = await openEngine(m);
    await engine.commit([[put('a', '1'), put('b', '2')], [put('c', '3')]]);
    await engine.close();
    engine = await openEngine(m);
    expect(engine.info().seq).toBe(2);
    expect(engine.info().recovery).toEqual({ tornBytes: 0, droppedRecords: 0, removedFiles: [], droppedCatalogRows: 0, expiredKeys: 0, damagedFiles: [] });
    expect(dump(engine)).toEqual(new Map([['a', '1'], ['b', '2'], ['c', '3']]));
  });

  it('compacts, retires one generation late, and reopens from the snapshot', async () => {
    const m = machine();
    let engine = await openEngine(m);
    for (let i = 0; i < 10; i++) await engine.commit([[put(`k${i}`, `v${i}`)]]);
    await engine.compact();
    expect(engine.info().snapshotSeq).toBe(10);
    await engine.commit([[put('k0', 'new')], [del('k1')]]);
    await engine.compact();
    await engine.commit([[put('k2', 'newer')]]);
    await engine.compact();
    const files = await m.dir.list();
    expect(files).toEqual(['snap-000000000000000c.db', 'snap-000000000000000d.db', 'wal-000000000000000d.log', 'wal-000000000000000e.log']);
    await engine.close();
    engine = await openEngine(m);
    expect(engine.info()).toMatchObject({ seq: 13, snapshotSeq: 13, keys: 9 });
    expect(engine.info().recovery.removedFiles).toEqual([]);
    expect(dump(engine).get('k0')).toBe('new');
    expect(dump(engine).get('k2')).toBe('newer');
    expect(dump(engine).has('k1')).toBe(false);
  });

  it('scans with prefix, bounds, limit and reverse', async () => {
    const m = machine();
    const engine = await openEngine(m);
    await engine.commit([['a', 'b:1', 'b:2', 'b:3', 'c'].map((k) => put(k, k))]);
    const keys = (range: object) => engine.scan(range, 100).entries.map(([k]) => k);
    expect(keys({})).toEqual(['a', 'b:1', 'b:2', 'b:3', 'c']);
    expect(keys({ prefix: 'b:' })).toEqual(['b:1', 'b:2', 'b:3']);
    expect(keys({ prefix: 'b:', gt: 'b:1' })).toEqual(['b:2', 'b:3']);
    expect(keys({ prefix: 'b:', reverse: true, limit: 2 })).toEqual(['b:3', 'b:2']);
    expect(keys({ gte: 'b:2', lt: 'c' })).toEqual(['b:2', 'b:3']);
    expect(keys({ lte: 'b:1', reverse: true })).toEqual(['b:1', 'a']);
    expect(keys({ limit: 0 })).toEqual([]);
  });

  it('compact() called during a running compaction covers the writes made before it', async () => {
    const m = machine();
    const engine = await openEngine(m, { sliceMs: 0, yieldToEvents: () => new Promise((r) => setTimeout(r, 0)) });
    for (let i = 0; i < 50; i++) await engine.commit([[put(`k${i}`, 'v')]]);
    const first = engine.compact();
    await engine.commit([[put('late', 'x')]]);
    const second = engine.compact();
    await Promise.all([first, second]);
    expect(engine.info()).toMatchObject({ seq: 51, snapshotSeq: 51 });
  });

  it('relaxed: resolves before flush, flushes within the delay', async () => {
    const m = machine();
    const engine = await openEngine(m, { durability: 'relaxed', relaxedFlushDelayMs: 20 });
    const before = m.dir.flushes;
    await engine.commit([[put('a', '1')]]);
    await engine.commit([[put('b', '2')]]);
    expect(m.dir.flushes).toBe(before);
    await new Promise((r) => setTimeout(r, 60));
    expect(m.dir.flushes).toBe(before + 1);
    // Now durable: a power loss keeps both.
    m.dir.afterCrash({ powerLoss: true });
    const reopened = await openEngine(m);
    expect(reopened.info().seq).toBe(2);
  });

  it('strict: one flush per commit group', async () => {
    const m = machine();
    const engine = await openEngine(m);
    const before = m.dir.flushes;
    await engine.commit([[put('a', '1')], [put('b', '2')], [del('a')]]);
    expect(m.dir.flushes).toBe(before + 1);
  });

  it('a failed write (quota) commits nothing, leaves no partial record, and writing works again', async () => {
    const m = machine();
    const engine = await openEngine(m, { preallocateBytes: 0 });
    await engine.commit([[put('a', '1')]]);
    m.dir.quotaBytes = 100;
    await expect(engine.commit([[put('big', 'x'.repeat(200))]])).rejects.toMatchObject({ code: 'STORE_QUOTA_EXCEEDED' });
    expect(engine.info().seq).toBe(1);
    expect(untext.decode(engine.get('a')!)).toBe('1');
    m.dir.quotaBytes = undefined;
    expect(await engine.commit([[put('b', '2')]])).toEqual([2]);
    await engine.close();
    const reopened = await openEngine(m);
    expect(reopened.info()).toMatchObject({ seq: 2, keys: 2, recovery: { tornBytes: 0 } });
  });
});

describe('close({ compact: true })', () => {
  const fill = async (engine: Awaited<ReturnType<typeof openEngine>>, batches: number) => {
    for (let b = 0; b < batches; b++) await engine.commit([Array.from({ length: 100 }, (_, i) => put(`k${b * 100 + i}`, 'v'.repeat(100)))]);
  };

  it('compacts a long log, so the next open reads a snapshot and replays nothing', async () => {
    const m = machine();
    let engine = await openEngine(m, { compactThresholdBytes: 1e12 });
    await fill(engine, 120); // about 1.4 MB of log
    const before = dump(engine);
    await engine.close({ compact: true });
    engine = await openEngine(m);
    expect(engine.info()).toMatchObject({ seq: 120, snapshotSeq: 120 });
    expect(dump(engine)).toEqual(before);
    await engine.commit([[put('after', 'x')]]);
    expect(engine.info().seq).toBe(121);
  });

  it('leaves a short log as it is, and a plain close never compacts', async () => {
    const m = machine();
    let engine = await openEngine(m, { compactThresholdBytes: 1e12 });
    await fill(engine, 5);
    await engine.close({ compact: true });
    engine = await openEngine(m, { compactThresholdBytes: 1e12 });
    expect(engine.info().snapshotSeq).toBe(0);
    await fill(engine, 120);
    await engine.close();
    engine = await openEngine(m);
    expect(engine.info()).toMatchObject({ seq: 125, snapshotSeq: 0 });
  });
});

describe('Engine after an interrupted compaction', () => {
  it('compacts again when the segment it had started is still empty', async () => {
    const m = machine();
    let engine = await openEngine(m, { sliceMs: 0, yieldToEvents: () => new Promise((r) => setTimeout(r, 0)) });
    for (let i = 0; i < 200; i++) await engine.commit([[put(`k${i}`, 'v')]]);
    const running = engine.compact();
    await new Promise((r) => setTimeout(r, 1)); // the segment at seq 201 is started, the snapshot is under way
    await engine.close();
    await running.catch(() => {});
    expect(await m.dir.list()).toEqual(['wal-0000000000000001.log', 'wal-00000000000000c9.log']);
    engine = await openEngine(m);
    await engine.compact();
    expect(engine.info()).toMatchObject({ seq: 200, snapshotSeq: 200, keys: 200 });
  });
});

describe('compaction headroom', () => {
  it('refuses to start without room for the snapshot, and changes nothing', async () => {
    const m = machine();
    let free = 10;
    const engine = await openEngine(m, { headroom: async () => free });
    for (let i = 0; i < 10; i++) await engine.commit([[put(`k${i}`, 'value')]]);
    const files = await m.dir.list();
    await expect(engine.compact()).rejects.toMatchObject({ code: 'STORE_QUOTA_EXCEEDED', message: expect.stringContaining('free storage') });
    expect(await m.dir.list()).toEqual(files);
    free = 1_000_000;
    await engine.compact();
    expect(engine.info().snapshotSeq).toBe(10);
  });
});

describe('automatic compaction, default policy', () => {
  const big = (key: string, bytes: number): EncodedOp => ({ type: 'put', key, value: new Uint8Array(bytes).fill(key.length) });
  const MiB = 1024 * 1024;
  /** Let a compaction a commit started run to its end (in these tests it never waits for a macrotask). */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

  it('leaves a log of unique keys alone (a snapshot would copy it for nothing), and compacts once 32 MiB of it are dead', async () => {
    const m = machine();
    const engine = await openEngine(m);
    for (let i = 0; i < 48; i++) await engine.commit([[big(`unique${i}`, MiB)]]);
    await settle();
    expect(engine.info().snapshotSeq).toBe(0);
    // Overwrite one key: every earlier value of it is dead. Halfway, the log's dead share is
    // 24 of 72 MiB, below the threshold; 48 overwrites make 48 of 96 MiB dead.
    for (let i = 0; i < 24; i++) await engine.commit([[big('same', MiB)]]);
    await settle();
    expect(engine.info().snapshotSeq).toBe(0);
    for (let i = 0; i < 24; i++) await engine.commit([[big('same', MiB)]]);
    await settle();
    // The threshold is crossed at the 33rd overwrite (49 keys, 81 ops: 32 MiB dead).
    expect(engine.info().snapshotSeq).toBe(81);
    await engine.close();
  });

  it('compacts after 250,000 operations since the snapshot, counting the ones an open replayed', async () => {
    const m = machine();
    let engine = await openEngine(m);
    const batch = (b: number) => Array.from({ length: 1000 }, (_, i) => put(`k${b}-${i}`, 'v'));
    for (let b = 0; b < 200; b++) await engine.commit([batch(b)]);
    await engine.close();
    engine = await openEngine(m);
    for (let b = 200; b < 249; b++) await engine.commit([batch(b)]);
    await settle();
    expect(engine.info().snapshotSeq).toBe(0);
    await engine.commit([batch(249)]);
    await settle();
    expect(engine.info().snapshotSeq).toBe(250);
    await engine.close();
  });

  it('with compactThresholdBytes set, compacts by the log size alone, unique keys or not', async () => {
    const m = machine();
    const engine = await openEngine(m, { compactThresholdBytes: 4 * MiB });
    for (let i = 0; i < 6; i++) await engine.commit([[big(`unique${i}`, MiB)]]);
    await settle();
    expect(engine.info().snapshotSeq).toBe(4);
    await engine.close();
  });
});
