/** Scans read neighbouring values with one read(), and still check every value. */
import { describe, expect, it } from 'vitest';
import { del, machine, openEngine, put, untext } from '../support/engine.js';

async function store() {
  const m = machine();
  const engine = await openEngine(m);
  const model = new Map<string, string>();
  const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`);
  await engine.commit([keys.map((k, i) => put(k, `value ${i}`))]);
  keys.forEach((k, i) => model.set(k, `value ${i}`));
  await engine.compact();
  // Overwrites and deletes after the snapshot break the runs of neighbours.
  await engine.commit([[put('k010', 'new'), del('k011'), put('k200', 'newer'), put('k2000', 'inserted')]]);
  model.set('k010', 'new').set('k200', 'newer').set('k2000', 'inserted').delete('k011');
  return { m, engine, model: new Map([...model].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

describe('scan', () => {
  it('returns the same entries forward and reverse, with snapshot neighbours in one buffer', async () => {
    const { engine, model } = await store();
    const forward = engine.scan({}, 1000).entries;
    expect(forward.map(([k, v]) => [k, untext.decode(v)])).toEqual([...model]);
    const reverse = engine.scan({ reverse: true, gte: 'k100', lt: 'k250' }, 1000).entries;
    expect(reverse.map(([k, v]) => [k, untext.decode(v)])).toEqual([...model].filter(([k]) => k >= 'k100' && k < 'k250').reverse());
    // 300 snapshot values cut in four runs by the three keys the log changed, plus those keys.
    expect(new Set(forward.map(([, v]) => v.buffer)).size).toBeLessThanOrEqual(8);
    const page = engine.scan({ gt: 'k020' }, 5).entries;
    expect(page.map(([k]) => k)).toEqual(['k021', 'k022', 'k023', 'k024', 'k025']);
    expect(page.map(([, , seq]) => seq)).toEqual([1, 1, 1, 1, 1]);
  });

  it('a damaged value inside a run is STORE_CORRUPTION, not data', async () => {
    const { m, engine } = await store();
    const snap = (await m.dir.list()).find((n) => n.startsWith('snap-'))!;
    const bytes = m.dir.bytes(snap)!;
    const at = Buffer.from(bytes).indexOf('value 150');
    bytes[at + 6]! ^= 0x01;
    m.dir.setBytes(snap, bytes);
    expect(() => engine.scan({ gte: 'k140', lt: 'k160' }, 100)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPTION', message: expect.stringContaining('"k150"') }));
    expect(engine.scan({ gte: 'k140', lt: 'k150' }, 100).entries).toHaveLength(10);
  });
});

describe('scan over the log', () => {
  it('reads the puts of one batch with one read(), skipping the op headers between them', async () => {
    const m = machine();
    const engine = await openEngine(m);
    const keys = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    await engine.commit([keys.map((k, i) => put(k, `value ${i}`))]);
    const entries = engine.scan({}, 1000).entries;
    expect(entries.map(([k, v]) => [k, untext.decode(v)])).toEqual(keys.map((k, i) => [k, `value ${i}`]));
    expect(new Set(entries.map(([, v]) => v.buffer)).size).toBe(1);
  });
});
