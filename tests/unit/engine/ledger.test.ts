/**
 * The request ledger: a forwarded commit retried after a crash of the leader is applied exactly
 * once, whatever step the crash hit, across compactions; and users never see the ledger.
 */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { FaultPlan, SimulatedCrash } from '../../../src/engine/memory.js';
import fc from 'fast-check';
import { encodeLedger, LEDGER_TTL_MS, LEDGER_WINDOW, ledgerKey, readLedger, type LedgerRow } from '../../../src/engine/ledger.js';
import { encodeUtf8 } from '../../../src/format/bytes.js';
import type { EncodedOp } from '../../../src/protocol.js';
import { dump, machine, openEngine, put } from '../support/engine.js';

const options = { sliceMs: 0, preallocateBytes: 64 };
/** Three forwarded requests of one follower; the second is a group of two records. */
const REQUESTS: { n: number; writes: EncodedOp[][] }[] = [
  { n: 1, writes: [[put('a', '1')]] },
  { n: 2, writes: [[put('b', '2')], [put('c', '3')]] },
  { n: 3, writes: [[put('a', 'again')]] },
];

async function runRequests(engine: Engine, acked: Map<number, number[]>): Promise<void> {
  for (const [i, request] of REQUESTS.entries()) {
    acked.set(request.n, await engine.commit(request.writes, { client: 'tab-b', n: request.n }));
    if (i === 1) await engine.compact();
  }
}

describe('request ledger', () => {
  it('encodes its rows in a few bytes each and reads back exactly what it wrote, in any order of requests', () => {
    const row = fc.tuple(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: 1_000_000 }));
    fc.assert(
      fc.property(fc.array(row, { maxLength: LEDGER_WINDOW }), (rows) => {
        expect(readLedger(encodeLedger(rows))).toEqual(rows);
      }),
    );
    const typical: LedgerRow[] = Array.from({ length: LEDGER_WINDOW }, (_, i) => [1000 + i, 2_000_000 + 3 * i, 1]);
    expect(encodeLedger(typical).byteLength).toBeLessThanOrEqual(1 + 5 + 3 * LEDGER_WINDOW);
  });

  it('reads the first layout (UTF-8 JSON) and counts a damaged value as empty', () => {
    expect(readLedger(encodeUtf8('[[1,10,2],[2,12,1]]'))).toEqual([[1, 10, 2], [2, 12, 1]]);
    const encoded = encodeLedger([[7, 100_000, 3]]);
    expect(readLedger(encoded.subarray(0, encoded.byteLength - 1))).toEqual([]); // cut off
    expect(readLedger(Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01))).toEqual([]); // too long
    expect(readLedger(encodeLedger([[5, 10, 1], [2, 3, 1]]).fill(0x02, 0, 1))).toEqual([]); // unknown layout
    expect(readLedger(Uint8Array.of(0x01, 0x02, 0x05, 0x00))).toEqual([]); // a seq below 0
    expect(readLedger(new Uint8Array())).toEqual([]);
  });

  it('answers a request recorded in the first layout (a store written by an earlier version)', async () => {
    const m = machine();
    let engine = await openEngine(m, options);
    await engine.commit([[put('a', '1')], [{ type: 'put', key: ledgerKey('old'), value: encodeUtf8('[[4,1,2]]') }]]);
    await engine.close();
    engine = await openEngine(m, options);
    expect(await engine.commit([[put('a', 'again')]], { client: 'old', n: 4 })).toEqual([1, 2]);
    expect(await engine.commit([[put('b', '2')]], { client: 'old', n: 5 })).toEqual([3]);
    expect(await engine.commit([[put('a', 'again')]], { client: 'old', n: 4 })).toEqual([1, 2]);
    await engine.close();
  });

  it('returns the original seqs for a request it has applied, without writing', async () => {
    const m = machine();
    const engine = await openEngine(m, options);
    expect(await engine.commit([[put('x', '1')]], { client: 'c1', n: 1 })).toEqual([1]);
    expect(await engine.commit([[put('x', '1')]], { client: 'c1', n: 1 })).toEqual([1]);
    expect(await engine.commit([[put('y', '2')]], { client: 'c2', n: 1 })).toEqual([2]); // another client
    expect(engine.info().seq).toBe(2);
    await engine.close();
  });

  it('hides its entries from scans, feeds and the key count', async () => {
    const m = machine();
    const engine = await openEngine(m, options);
    await engine.commit([[put('k', 'v')]], { client: 'c1', n: 1 });
    expect(dump(engine)).toEqual(new Map([['k', 'v']]));
    expect(engine.scan({ reverse: true }, 10).entries.map(([k]) => k)).toEqual(['k']);
    expect(engine.info().keys).toBe(1);
    const page = await engine.readChanges(0, {}, 10, 0);
    expect(page.kind === 'changes' && page.changes.map((c) => c.ops.map((op) => op.key))).toEqual([['k']]);
    expect(engine.get(ledgerKey('c1'))).toBeDefined(); // it is there, inside the store
    await engine.close();
  });

  it('remembers the last LEDGER_WINDOW requests of a client', async () => {
    const m = machine();
    const engine = await openEngine(m, options);
    for (let n = 1; n <= LEDGER_WINDOW + 2; n++) await engine.commit([[put(`k${n}`, 'v')]], { client: 'c', n });
    expect(await engine.commit([[put('k3', 'v')]], { client: 'c', n: 3 })).toEqual([3]);
    const seq = engine.info().seq;
    await engine.commit([[put('k1', 'v')]], { client: 'c', n: 1 }); // forgotten: applied again
    expect(engine.info().seq).toBe(seq + 1);
    await engine.close();
  });

  it('a tagged commit that failed is not remembered: its retry is applied, after it the ledger holds both clients’ requests', async () => {
    const m = machine();
    const engine = await openEngine(m, { ...options, preallocateBytes: 0 });
    expect(await engine.commit([[put('a', '1')]], { client: 'c', n: 1 })).toEqual([1]);
    m.dir.quotaBytes = 400;
    await expect(engine.commit([[put('big', 'x'.repeat(600))]], { client: 'c', n: 2 })).rejects.toMatchObject({ code: 'STORE_QUOTA_EXCEEDED' });
    m.dir.quotaBytes = undefined;
    // Another client's commit takes the seq the failed one would have had.
    expect(await engine.commit([[put('o', '1')]], { client: 'other', n: 1 })).toEqual([2]);
    expect(await engine.commit([[put('big', 'y')]], { client: 'c', n: 2 })).toEqual([3]);
    expect(await engine.commit([[put('big', 'y')]], { client: 'c', n: 2 })).toEqual([3]);
    expect(await engine.commit([[put('a', '1')]], { client: 'c', n: 1 })).toEqual([1]);
    await engine.compact();
    expect(await engine.commit([[put('o', '1')]], { client: 'other', n: 1 })).toEqual([2]);
    expect(await engine.commit([[put('d', '4')]], { client: 'c', n: 3 })).toEqual([4]);
    await engine.close();
    // What the engine kept in memory is what the files say.
    const reopened = await openEngine(m, options);
    for (const [client, n, seqs] of [['c', 1, [1]], ['c', 2, [3]], ['c', 3, [4]], ['other', 1, [2]]] as const) {
      expect(await reopened.commit([[put('never', 'applied')]], { client, n })).toEqual(seqs);
    }
    expect(reopened.info().seq).toBe(4);
    await reopened.close();
  });

  it('expires with the store’s expiry, a day after the client’s last write', async () => {
    const m = machine();
    let now = 1_000;
    let engine = await openEngine(m, { ...options, now: () => now });
    await engine.commit([[put('k', 'v')]], { client: 'gone', n: 1 });
    await engine.close();
    now += LEDGER_TTL_MS + 1;
    engine = await openEngine(m, { ...options, now: () => now });
    expect(engine.get(ledgerKey('gone'))).toBeUndefined();
    await engine.close();
  });

  it.each([false, true])('applies every retried request exactly once after a crash at any step (power loss: %s)', async (powerLoss) => {
    const dry = machine();
    const dryEngine = await openEngine(dry, options);
    await runRequests(dryEngine, new Map());
    const sizes = dry.dir.faults.sizes;
    const records = REQUESTS.reduce((sum, r) => sum + r.writes.length, 0);
    let crashes = 0;
    for (let step = 0; step <= sizes.length; step++) {
      for (const tear of sizes[step]! > 0 ? [0, Math.floor(sizes[step]! / 2)] : [0]) {
        const m = machine();
        const engine = await openEngine(m, options);
        m.dir.faults = new FaultPlan(m.dir.faults.steps + step, tear);
        const acked = new Map<number, number[]>();
        try {
          await runRequests(engine, acked);
        } catch (error) {
          if (!(error instanceof SimulatedCrash) && !(error as { cause?: unknown }).cause) throw error;
        }
        crashes++;
        m.dir.afterCrash({ powerLoss });
        // The follower retries every request, acknowledged or not, against the new leader.
        const recovered = await openEngine(m, options);
        for (const request of REQUESTS) {
          const seqs = await recovered.commit(request.writes, { client: 'tab-b', n: request.n });
          if (acked.has(request.n)) expect(seqs).toEqual(acked.get(request.n));
        }
        expect(recovered.info().seq).toBe(records); // none applied twice, none lost
        expect(dump(recovered)).toEqual(new Map([['a', 'again'], ['b', '2'], ['c', '3']]));
        await recovered.close();
      }
    }
    expect(crashes).toBeGreaterThan(sizes.length);
  });
});
