/** Expiry: invisible at once, dropped at compaction and at open, reported, survives crashes as written. */
import { describe, expect, it } from 'vitest';
import { dump, machine, openEngine, put, text } from '../support/engine.js';

describe('expiry', () => {
  it('hides expired keys at once and drops them at compaction and at open', async () => {
    const m = machine();
    let now = 1_000;
    const clock = { now: () => now };
    let engine = await openEngine(m, clock);
    await engine.commit([[{ type: 'put', key: 'a', value: text.encode('short'), expiresAt: 1_500 }, { type: 'put', key: 'b', value: text.encode('long'), expiresAt: 9_000 }, put('c', 'forever')]]);
    expect(dump(engine)).toEqual(new Map([['a', 'short'], ['b', 'long'], ['c', 'forever']]));
    now = 2_000;
    expect(engine.get('a')).toBeUndefined();
    expect([...dump(engine).keys()]).toEqual(['b', 'c']);
    await engine.compact();
    expect(engine.info().keys).toBe(2); // dropped from the index by the compaction
    await engine.close();
    now = 10_000;
    engine = await openEngine(m, clock);
    expect(engine.info().recovery.expiredKeys).toBe(1); // b, dropped while opening
    expect([...dump(engine).keys()]).toEqual(['c']);
  });

  it('counts keys whose last write expired while replaying the log', async () => {
    const m = machine();
    let now = 0;
    let engine = await openEngine(m, { now: () => now });
    await engine.commit([[{ type: 'put', key: 'x', value: text.encode('1'), expiresAt: 50 }], [put('y', 'stays')], [{ type: 'put', key: 'z', value: text.encode('2'), expiresAt: 50 }], [put('z', 'rewritten')]]);
    await engine.close();
    now = 100;
    engine = await openEngine(m, { now: () => now });
    expect(engine.info().recovery.expiredKeys).toBe(1);
    expect(dump(engine)).toEqual(new Map([['y', 'stays'], ['z', 'rewritten']]));
  });
});
