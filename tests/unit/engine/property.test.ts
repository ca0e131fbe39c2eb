/** Random operation sequences, with compactions and reopenings, against a Map model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EncodedOp } from '../../../src/protocol.js';
import { applyModel, del, dump, machine, openEngine, put } from '../support/engine.js';

const key = fc.constantFrom('a', 'b', 'c', 'd', 'a/1', 'a/2', 'é', '\u{1F600}', 'z'.repeat(50));
const op = fc.oneof(
  fc.record({ key, value: fc.string({ maxLength: 30 }) }).map(({ key, value }) => put(key, value)),
  key.map((k) => del(k)),
);
const action = fc.oneof(
  { weight: 6, arbitrary: fc.array(op, { minLength: 1, maxLength: 4 }).map((ops) => ({ kind: 'commit' as const, ops })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

describe('property: the engine behaves like a Map', () => {
  it('for random sequences of commits, compactions and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), fc.constantFrom(0, 32, 4096), async (actions, preallocateBytes) => {
        const m = machine();
        const options = { preallocateBytes, compactThresholdBytes: 400, sliceMs: 0 };
        let engine = await openEngine(m, options);
        const history: EncodedOp[][] = [];
        for (const a of actions) {
          if (a.kind === 'commit') {
            const [seq] = await engine.commit([a.ops]);
            history.push(a.ops);
            expect(seq).toBe(history.length);
          } else if (a.kind === 'compact') {
            await engine.compact();
          } else {
            await engine.close();
            engine = await openEngine(m, options);
            expect(engine.info().recovery).toMatchObject({ tornBytes: 0, droppedCatalogRows: 0, removedFiles: [] });
          }
          expect(engine.info().seq).toBe(history.length);
        }
        const model = applyModel(new Map(), history);
        expect(dump(engine)).toEqual(model);
        for (const k of ['a', 'b', 'é', 'missing']) {
          const got = engine.get(k);
          expect(got === undefined ? undefined : new TextDecoder().decode(got)).toBe(model.get(k));
        }
        await engine.close();
      }),
      { numRuns: 200 },
    );
  });
});
