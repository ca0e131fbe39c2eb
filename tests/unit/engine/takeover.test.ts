/**
 * Taking over from a leader that still runs (its tab was frozen or hung, and its lock stolen):
 * the fence stops it acknowledging, the new leader continues in a segment of its own, and
 * recovery never replays what the old one wrote after the seal. Files are shared, as OPFS
 * `readwrite-unsafe` handles are.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../../src/engine/engine.js';
import { Fence, FencedOut } from '../../../src/engine/fence.js';
import { MemoryCatalog, MemoryDirectory } from '../../../src/engine/memory.js';
import { dump, put, STORE } from '../support/engine.js';

/** A leader as the host makes one: it reads the fence, claims it, and takes over when it stole the lock or its predecessor did not let go cleanly. */
async function leader(dir: MemoryDirectory, catalog: MemoryCatalog, epoch: number, stolen: boolean) {
  const fence = await Fence.open(dir);
  const takeover = stolen || !fence.state().released;
  fence.claim(epoch);
  const engine = await Engine.open(dir, catalog, STORE, {
    durability: 'strict',
    preallocateBytes: 0,
    yieldToEvents: () => Promise.resolve(),
    fence: () => fence.check(epoch),
    ...(takeover ? { takeoverEpoch: epoch } : {}),
  });
  /** Stop as a leader that steps down cleanly: files closed, then the fence released. */
  const stop = async () => {
    await engine.close();
    fence.release(epoch);
    fence.close();
  };
  return { engine, fence, stop, takeover };
}

/** The change feed from `since` to the end: each record's seq and keys. */
async function history(engine: Engine, since: number): Promise<[number, string[]][]> {
  const out: [number, string[]][] = [];
  for (let cursor = since; cursor < engine.info().seq; ) {
    const page = await engine.readChanges(cursor, {}, 100, 0);
    if (page.kind !== 'changes') throw new Error('unexpected reset');
    for (const change of page.changes) out.push([change.seq, change.ops.map((op) => op.key)]);
    cursor = page.next;
  }
  return out;
}

describe('takeover from a leader that still runs', () => {
  it('the claim, written and not flushed, stops the old leader; a power loss after the takeover loses nothing acknowledged', async () => {
    const dir = new MemoryDirectory({ sharedHandles: true });
    const catalog = new MemoryCatalog(dir);
    const a = await leader(dir, catalog, 1, false);
    expect(await a.engine.commit([[put('k1', 'one')]])).toEqual([1]);
    const b = await leader(dir, catalog, 2, true);
    // Not flushed: the old leader sees it through its own handle all the same.
    expect(dir.durableBytes('fence')).not.toEqual(dir.bytes('fence'));
    await expect(a.engine.commit([[put('late', 'from A')]])).rejects.toBeInstanceOf(FencedOut);
    expect(await b.engine.commit([[put('k2', 'two')]])).toEqual([2]);
    // The machine loses power: the claim is gone from the fence, the acknowledged records are not.
    dir.afterCrash({ powerLoss: true });
    const c = await leader(dir, catalog, 3, false);
    expect(dump(c.engine)).toEqual(new Map([['k1', 'one'], ['k2', 'two']]));
    // A's late record, flushed past the seal of its segment, is still not replayed.
    expect(c.engine.info().recovery.droppedRecords).toBe(1);
    expect(await c.engine.commit([[put('k3', 'three')]])).toEqual([3]);
    await c.stop();
  });

  it('the old leader acknowledges nothing after it, and its late records are never replayed', async () => {
    const dir = new MemoryDirectory({ sharedHandles: true });
    const catalog = new MemoryCatalog(dir);
    const a = await leader(dir, catalog, 1, false);
    expect(await a.engine.commit([[put('k1', 'one')], [put('k2', 'two')]])).toEqual([1, 2]);
    // A's thread stops; B steals the lock, claims the files and continues in its own segment.
    const b = await leader(dir, catalog, 2, true);
    expect(dump(b.engine)).toEqual(new Map([['k1', 'one'], ['k2', 'two']]));
    expect(await dir.list()).toEqual(['fence', 'wal-0000000000000001.log', 'wal-0000000000000003-00000002.log']);
    // A runs again and commits (its write lands after the seal of its segment): refused before any ack.
    await expect(a.engine.commit([[put('late', 'from A')]])).rejects.toBeInstanceOf(FencedOut);
    await expect(a.engine.commit([[put('later', 'from A')]])).rejects.toBeInstanceOf(FencedOut);
    expect(() => a.engine.compact()).toThrow(FencedOut);
    expect(await b.engine.commit([[put('k3', 'three')]])).toEqual([3]);
    expect(b.engine.get('late')).toBeUndefined();
    // The late record is on disk, past record 2 of the old segment, with seq 3: B's seq.
    expect(dir.bytes('wal-0000000000000001.log')!.length).toBeGreaterThan(0);
    await a.engine.close();
    await b.engine.close();
    // A restart replays the old segment up to the seal and B's segment after it.
    const c = await leader(dir, catalog, 3, false);
    expect(dump(c.engine)).toEqual(new Map([['k1', 'one'], ['k2', 'two'], ['k3', 'three']]));
    expect(c.engine.info()).toMatchObject({ seq: 3, recovery: { droppedRecords: 1 } });
    // The change feed's history does not show the late record either.
    expect(await history(c.engine, 0)).toEqual([[1, ['k1']], [2, ['k2']], [3, ['k3']]]);
    // Compaction retires the sealed segment with the rest.
    await c.engine.commit([[put('k4', 'four')]]);
    await c.engine.compact();
    await c.engine.commit([[put('k5', 'five')]]);
    await c.engine.compact();
    expect(dump(c.engine).size).toBe(5);
    await c.engine.close();
  });

  it('a takeover right after the old leader rotated to an empty segment supersedes that segment', async () => {
    const dir = new MemoryDirectory({ sharedHandles: true });
    const catalog = new MemoryCatalog(dir);
    const a = await leader(dir, catalog, 1, false);
    await a.engine.commit([[put('k1', 'one')]]);
    await a.engine.compact(); // the log continues in an empty wal-…02.log
    const b = await leader(dir, catalog, 2, true);
    // A writes into its empty segment after the takeover: the same first seq as B's.
    await expect(a.engine.commit([[put('late', 'from A')]])).rejects.toBeInstanceOf(FencedOut);
    expect(await b.engine.commit([[put('k2', 'two')]])).toEqual([2]);
    await a.engine.close();
    await b.engine.close();
    const c = await leader(dir, catalog, 3, false);
    expect(dump(c.engine)).toEqual(new Map([['k1', 'one'], ['k2', 'two']]));
    expect(c.engine.info().seq).toBe(2);
    expect(await history(c.engine, 1)).toEqual([[2, ['k2']]]);
    await c.engine.close();
  });

  it('after a taker that crashed before its own segment, the next leader does not append where the hung one writes', async () => {
    const dir = new MemoryDirectory({ sharedHandles: true });
    const catalog = new MemoryCatalog(dir);
    const a = await leader(dir, catalog, 1, false);
    await a.engine.commit([[put('k1', 'one')]]);
    // A hangs. T steals the lock and claims the fence, then its tab crashes before it opens anything.
    const crashed = await Fence.open(dir);
    crashed.claim(2);
    crashed.close();
    // F gets the lock the ordinary way (T's died with it), but the fence was never released.
    const f = await leader(dir, catalog, 3, false);
    expect(f.takeover).toBe(true);
    expect(await f.engine.commit([[put('k2', 'two')]])).toEqual([2]);
    // A wakes and writes where it thinks the log ends: the fence stops it, and F's records are intact.
    await expect(a.engine.commit([[put('late', 'from A')]])).rejects.toBeInstanceOf(FencedOut);
    await a.engine.close();
    await f.stop();
    const g = await leader(dir, catalog, 4, false);
    expect(g.takeover).toBe(false); // F let go cleanly: G goes on in F's segment
    expect(dump(g.engine)).toEqual(new Map([['k1', 'one'], ['k2', 'two']]));
    await g.engine.close();
  });

  it('a fence that was never claimed again lets its leader go on', async () => {
    const dir = new MemoryDirectory({ sharedHandles: true });
    const a = await leader(dir, new MemoryCatalog(dir), 5, false);
    expect(a.fence.epoch()).toBe(5);
    expect(await a.engine.commit([[put('k', 'v')]])).toEqual([1]);
    await a.engine.close();
  });
});
