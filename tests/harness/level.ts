/**
 * abstract-level's own compliance suite (tape-based, shipped in the package) run in the page
 * against `WaldenLevel`, every database of it in one Walden store, with the counts reported.
 */
import './node-globals.js';
import tape from 'tape';
import suite from 'abstract-level/test';
import { openStore } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { WaldenLevel } from '../../src/adapters/level.js';

/** What the suite came to. */
export interface SuiteResult {
  /** `test()` cases run. */
  tests: number;
  assertions: number;
  passed: number;
  failed: number;
  /** The first failures, named. */
  failures: string[];
  ms: number;
}

interface Row {
  type: 'test' | 'assert' | 'end';
  name?: string;
  ok?: boolean;
  actual?: unknown;
  expected?: unknown;
  operator?: string;
}

let listening: WaldenLevel<string, unknown> | undefined;
const events: unknown[] = [];

export const level = {
  /** Open `name` as a Level database with the json encoding; with `listen`, record its `write` events. */
  async openShared(name: string, listen: boolean): Promise<void> {
    listening = new WaldenLevel<string, unknown>(name, { valueEncoding: 'json', open: { worker: new WaldenWorker() } });
    if (listen) listening.on('write', (ops: { type: string; key: string; value?: unknown; remote?: boolean }[]) => events.push(ops.map(({ type, key, value, remote }) => ({ type, key, value, remote: remote === true }))));
    await listening.open();
  },
  /** Write through the database opened by `openShared`. */
  async write(kind: 'put' | 'del' | 'batch', key: string): Promise<void> {
    const db = listening!;
    if (kind === 'put') await db.put(key, { from: key });
    else if (kind === 'del') await db.del(key);
    else await db.batch([{ type: 'put', key: `${key}.1`, value: 1 }, { type: 'del', key: `${key}.2` }]);
  },
  events: () => events,
  async closeShared(): Promise<void> {
    await listening?.close();
  },

  /** A database in a store of its own: write, close, reopen; binary and empty keys in bytewise order. */
  async ownStore(name: string) {
    const db = new WaldenLevel<Uint8Array, string>(name, { keyEncoding: 'view', valueEncoding: 'utf8', open: { worker: new WaldenWorker() } });
    await db.open();
    await db.batch([
      { type: 'put', key: Uint8Array.of(0xff), value: 'ff' },
      { type: 'put', key: new Uint8Array(0), value: 'empty' },
      { type: 'put', key: Uint8Array.of(0x00, 0x01), value: '0001' },
      { type: 'put', key: Uint8Array.of(0x80), value: '80' },
    ]);
    await db.close();
    const again = new WaldenLevel<Uint8Array, string>(name, { keyEncoding: 'view', valueEncoding: 'utf8', open: { worker: new WaldenWorker() } });
    await again.open();
    const entries = (await again.iterator().all()).map(([key, value]) => [Array.from(key), value]);
    const status = [again.status, again.supports.has, again.supports.implicitSnapshots];
    await again.close();
    return { entries, status };
  },

  /** Run the whole suite against databases in store `name`. */
  async runSuite(name: string): Promise<SuiteResult> {
    const started = performance.now();
    const store = await openStore(name, { worker: new WaldenWorker() });
    const result: SuiteResult = { tests: 0, assertions: 0, passed: 0, failed: 0, failures: [], ms: 0 };
    const harness = tape.createHarness();
    let current = '';
    harness.createStream({ objectMode: true }).on('data', (row: Row) => {
      if (row.type === 'test') {
        result.tests += 1;
        current = row.name ?? '';
      } else if (row.type === 'assert') {
        result.assertions += 1;
        if (row.ok) result.passed += 1;
        else {
          result.failed += 1;
          if (result.failures.length < 40) result.failures.push(`${current} › ${row.name} (${row.operator}: got ${String(row.actual).slice(0, 120)}, wanted ${String(row.expected).slice(0, 120)})`);
        }
      }
    });
    const finished = new Promise<void>((resolve) => harness.onFinish(() => resolve()));
    let n = 0;
    suite({ test: harness, factory: (options?: object) => new WaldenLevel(`db${n++}`, { ...options, store }) });
    await finished;
    await store.close();
    result.ms = Math.round(performance.now() - started);
    return result;
  },
};
