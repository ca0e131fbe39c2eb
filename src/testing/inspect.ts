/**
 * The in-page half of `walden/testing`, bundled as one script (with the worker inlined) that the
 * kit adds to a blank page of the app's origin: it reads a store's keys, values and seqs, its
 * OPFS files and its IndexedDB rows, without the app's help.
 */
import { wrap, releaseProxy } from 'comlink';
import { installErrorTransfer } from '../errors.js';
import type { EngineApi } from '../protocol.js';
import InlineWorker from '../worker.ts?worker&inline';
import { listStoreFiles } from '../platform/opfs-root.js';

import type { StoreState as InspectedStore } from './types.js';

function idbRows(storeName: string, objectStore: string): Promise<unknown[]> {
  return new Promise((resolve) => {
    const open = indexedDB.open('walden');
    open.onerror = () => resolve([]);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(objectStore)) {
        db.close();
        return resolve([]);
      }
      const request = db.transaction(objectStore).objectStore(objectStore).getAll();
      request.onsuccess = () => {
        db.close();
        resolve((request.result as { store: string }[]).filter((row) => row.store === storeName));
      };
      request.onerror = () => resolve([]);
    };
  });
}

/** Open the store `name` (retrying while a dying holder releases it), read everything, close. */
export async function inspectStore(name: string): Promise<InspectedStore> {
  installErrorTransfer();
  for (let attempt = 0; ; attempt++) {
    const worker = new InlineWorker();
    const remote = wrap<EngineApi>(worker);
    try {
      const info = await remote.open(name, { durability: 'strict' });
      const entries: InspectedStore['entries'] = [];
      let gt: string | undefined;
      for (;;) {
        const { entries: page } = await remote.scan(gt === undefined ? {} : { gt }, 1024);
        for (const [key, value, seq] of page) entries.push({ key, value, seq });
        if (page.length < 1024) break;
        gt = page[page.length - 1]![0];
      }
      await remote.close();
      return { seq: info.seq, durableSeq: info.durableSeq, entries, files: await listStoreFiles(name), catalog: await idbRows(name, 'snapshots'), checkpoints: await idbRows(name, 'checkpoints'), recovery: info.recovery };
    } catch (error) {
      if ((error as { code?: string }).code !== 'STORE_LOCKED' || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      remote[releaseProxy]();
      worker.terminate();
    }
  }
}

(globalThis as { __waldenInspect?: typeof inspectStore }).__waldenInspect = inspectStore;
