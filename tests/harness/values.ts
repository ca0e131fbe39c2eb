/**
 * The browser half of the value property test: random values of every storable type (the same
 * ones for the same seed, so a reloaded page can check what an earlier one wrote), written to a
 * store and read back on every path a value comes out, each compared with `structuredClone` of
 * the original.
 */
import fc from 'fast-check';
import { importStore, openStore, type Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { compareOptions, differenceFromClone } from '../support/clone-compare.js';

// Firefox cannot give a re-created Error a stack of our choosing (see compareOptions).
compareOptions.errorStack = !/Firefox\//.test(navigator.userAgent);
import { storableValue } from '../support/value-arbitrary.js';

const keyOf = (i: number) => `v${String(i).padStart(6, '0')}`;

/** The values of `seed`, generated afresh (structured clones of them are the expectation). */
function valuesOf(seed: number, count: number): unknown[] {
  return fc.sample(storableValue({ files: true, platform: true }), { seed, numRuns: count });
}

class Checker {
  readonly failures: string[] = [];
  checked = 0;
  readonly #expected: unknown[];
  constructor(values: unknown[]) {
    this.#expected = values.map((v) => structuredClone(v));
  }
  async check(path: string, key: string, got: unknown): Promise<void> {
    const i = Number(key.slice(1));
    this.checked++;
    const difference = await differenceFromClone(got, this.#expected[i]);
    if (difference && this.failures.length < 20) this.failures.push(`${path}, ${key}: ${difference.slice(0, 400)}`);
  }
  async scan(path: string, store: Store, range: { reverse?: boolean; limit?: number; gte?: string } = {}): Promise<number> {
    let n = 0;
    for await (const [key, value] of store.scan({ prefix: 'v', ...range })) await this.check(path, key, value), n++;
    return n;
  }
}

/** The step the value checks are at (a spec that times out names it). */
export const valuesProgress = { step: '' };
const step = (what: string) => (valuesProgress.step = what);

async function openOwn(name: string): Promise<Store> {
  return openStore(name, { worker: new WaldenWorker() });
}

/**
 * Write the values of `seed` into a new store `name` and check them through `get`, `getMany`,
 * `scan` (both directions, several limits), `watch`, `consume`, a follower tab's worker, and a
 * compaction. Leaves the store closed.
 */
export async function writeAndCheckValues(name: string, seed: number, count: number) {
  const values = valuesOf(seed, count);
  const checker = new Checker(values);
  const store = await openOwn(name);
  // Single puts, and every other group of 10 as one batch.
  const writes: Promise<number>[] = [];
  for (let i = 0; i < count; i += 10) {
    const group = values.slice(i, i + 10).map((value, j) => ({ type: 'put' as const, key: keyOf(i + j), value }));
    if ((i / 10) % 2 === 0) writes.push(store.batch(group));
    else for (const op of group) writes.push(store.put(op.key, op.value));
  }
  await Promise.all(writes);
  for (let i = 0; i < count; i++) await checker.check('get', keyOf(i), await store.get(keyOf(i)));
  for (let i = 0; i < count; i += 97) {
    const keys = Array.from({ length: Math.min(97, count - i) }, (_, j) => keyOf(i + j));
    const got = await store.getMany(keys);
    for (let j = 0; j < keys.length; j++) await checker.check('getMany', keys[j]!, got[j]);
  }
  const scanned = [await checker.scan('scan', store), await checker.scan('scan reverse', store, { reverse: true }), await checker.scan('scan limit 1', store, { limit: 1 }), await checker.scan('scan limit 513', store, { reverse: true, limit: 513 })];
  let watched = 0;
  for await (const change of store.watch({ since: 0, prefix: 'v' })) {
    if (change.type !== 'change') continue;
    for (const op of change.ops) if (op.type === 'put') await checker.check('watch', op.key, op.value), watched++;
    if (watched >= count) break;
  }
  let consumed = 0;
  const allConsumed = new Promise<void>((resolve) => {
    const consumer = store.consume(
      `values-${seed}`,
      async (change) => {
        if (change.type !== 'change') return;
        for (const op of change.ops) if (op.type === 'put') await checker.check('consume', op.key, op.value), consumed++;
        if (consumed >= count) void consumer.stop().then(resolve);
      },
      { prefix: 'v' },
    );
  });
  await allConsumed;
  const follower = await openOwn(name);
  const followerRole = follower.role;
  for (let i = 0; i < count; i += 7) await checker.check('follower get', keyOf(i), await follower.get(keyOf(i)));
  const followerScanned = await checker.scan('follower scan', follower);
  await follower.close();
  await store.compact();
  const afterCompaction = await checker.scan('scan after compaction', store);
  await store.close();
  return { failures: checker.failures, checked: checker.checked, scanned, watched, consumed, followerRole, followerScanned, afterCompaction };
}

/** After a reload: reopen `name` and check the values of `seed`, then export it, import it as `copy`, and check that. */
export async function reopenAndCheckValues(name: string, copy: string, seed: number, count: number) {
  const checker = new Checker(valuesOf(seed, count));
  step('reopen');
  const store = await openOwn(name);
  step('scan after reload');
  const reopened = await checker.scan('scan after reload', store);
  step('export');
  const artifact = await store.export();
  step('close after export');
  await store.close();
  step('import');
  await importStore(copy, artifact, { worker: new WaldenWorker() });
  step('open the copy');
  const imported = await openOwn(copy);
  step('scan the copy');
  const afterImport = await checker.scan('scan after export and import', imported);
  for (let i = 0; i < count; i += 11) await checker.check('get after import', keyOf(i), await imported.get(keyOf(i)));
  step('close the copy');
  await imported.close();
  step('done');
  return { failures: checker.failures, checked: checker.checked, reopened, afterImport };
}
