/**
 * Crash at every I/O step and, for writes, after every byte prefix; then reboot (keeping or
 * dropping unflushed data) and check the recovered store against a model of what was acknowledged.
 */
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/engine.js';
import { FaultPlan, SimulatedCrash } from '../../../src/engine/memory.js';
import type { EncodedOp } from '../../../src/protocol.js';
import { applyModel, del, dump, machine, openEngine, put } from '../support/engine.js';

type Step = { ops: EncodedOp[] } | 'compact' | { concurrent: EncodedOp[][] };

/** Runs a scenario; records how many records were attempted and acknowledged. */
async function run(engine: Engine, steps: Step[], log: { attempted: EncodedOp[][]; acked: number }) {
  for (const step of steps) {
    if (step === 'compact') {
      await engine.compact();
    } else if ('ops' in step) {
      log.attempted.push(step.ops);
      await engine.commit([step.ops]);
      log.acked = log.attempted.length;
    } else {
      // A compaction with writes landing while its snapshot is being written.
      const compaction = engine.compact();
      compaction.catch(() => {}); // observed below; a crash may reject it before that
      for (const ops of step.concurrent) {
        log.attempted.push(ops);
        await engine.commit([ops]);
        log.acked = log.attempted.length;
      }
      await compaction;
    }
  }
}

const SCENARIOS: Record<string, Step[]> = {
  'puts and deletes': [{ ops: [put('a', 'one')] }, { ops: [put('b', 'two')] }, { ops: [del('a')] }, { ops: [put('b', 'three')] }, { ops: [del('nothing')] }],
  batches: [{ ops: [put('a', '1'), put('b', '2'), put('c', '3')] }, { ops: [del('b'), put('d', '4')] }, { ops: [put('a', 'x'.repeat(40)), del('c')] }],
  'compaction mid-way': [
    { ops: [put('a', '1'), put('b', '2')] },
    { ops: [put('c', '3')] },
    'compact',
    { ops: [del('a'), put('d', '4')] },
    'compact',
    { ops: [put('b', 'later')] },
    'compact',
    { ops: [put('e', '5')] },
  ],
  'writes during compaction': [{ ops: [put('a', '1'), put('b', '2'), put('c', '3')] }, { concurrent: [[put('a', 'A')], [del('b')], [put('z', 'Z')]] }, { ops: [put('c', 'C')] }, 'compact'],
};

const options = { sliceMs: 0, preallocateBytes: 64 };

async function checkRecovered(m: ReturnType<typeof machine>, log: { attempted: EncodedOp[][]; acked: number }, powerLoss: boolean, durability: 'strict' | 'relaxed') {
  m.dir.afterCrash({ powerLoss });
  const engine = await openEngine(m, { ...options, durability });
  const { seq } = engine.info();
  // Strict: every acknowledged record survives. Relaxed survives everything but power loss.
  if (durability === 'strict' || !powerLoss) expect(seq).toBeGreaterThanOrEqual(log.acked);
  expect(seq).toBeLessThanOrEqual(log.attempted.length);
  // Whatever survived is exactly the first `seq` records: none invented, reordered or half-applied.
  expect(dump(engine)).toEqual(applyModel(new Map(), log.attempted.slice(0, seq)));
  // And the store keeps working with dense seqs.
  expect(await engine.commit([[put('after', 'crash')]])).toEqual([seq + 1]);
  await engine.close();
  const again = await openEngine(m, options);
  expect(again.info().seq).toBe(seq + 1);
  expect(again.info().recovery.tornBytes).toBe(0);
  await again.close();
}

describe.each([
  ['strict', false],
  ['strict', true],
  ['relaxed', false],
  ['relaxed', true],
] as const)('crash at every step (%s, power loss: %s)', (durability, powerLoss) => {
  it.each(Object.keys(SCENARIOS))('%s', async (name) => {
    const steps = SCENARIOS[name]!;
    // A dry run counts the steps and the size of every write.
    const dry = machine();
    await run(await openEngine(dry, { ...options, durability }), steps, { attempted: [], acked: 0 });
    const sizes = dry.dir.faults.sizes;
    let crashes = 0;
    for (let step = 0; step <= sizes.length; step++) {
      const size = sizes[step] ?? -1;
      const tears = size < 0 ? [0] : Array.from({ length: size + 1 }, (_, i) => i);
      for (const tear of tears) {
        const m = machine();
        const log = { attempted: [] as EncodedOp[][], acked: 0 };
        let engine: Engine | undefined;
        // Opening is not under test here: crash only after the engine is up.
        engine = await openEngine(m, { ...options, durability });
        m.dir.faults = new FaultPlan(m.dir.faults.steps + step, tear);
        try {
          await run(engine, steps, log);
        } catch (error) {
          if (!(error instanceof SimulatedCrash) && !(error as { cause?: unknown }).cause) throw error;
        }
        crashes++;
        await checkRecovered(m, log, powerLoss, durability);
      }
    }
    expect(crashes).toBeGreaterThan(sizes.length);
    console.log(`${name}: ${crashes} crashes over ${sizes.length} steps`);
  });
});
