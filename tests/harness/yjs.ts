/**
 * `walden/yjs` in use: Y.Docs kept by `WaldenPersistence` in a store the harness opens, edited
 * through a Y.Text, so specs can edit, read the text, and count what is stored.
 */
import * as Y from 'yjs';
import { openStore, type Store } from '../../src/index.js';
import WaldenWorker from '../../src/worker.ts?worker';
import { WaldenPersistence } from '../../src/adapters/yjs.js';

interface Open {
  doc: Y.Doc;
  provider: WaldenPersistence;
  store: Store;
  errors: string[];
}

let current: Open | undefined;

/** After a crash the dead holder's lock is released within milliseconds; allow for that. */
async function openRetrying(name: string): Promise<Store> {
  for (let attempt = 0; ; attempt++) {
    const worker = new WaldenWorker();
    try {
      return await openStore(name, { worker });
    } catch (error) {
      worker.terminate();
      if ((error as { code?: string }).code !== 'STORE_LOCKED' || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

export const yjs = {
  /** Open document `doc` in store `name` (this page's one document). */
  async open(name: string, doc: string, compactEvery?: number): Promise<string> {
    const store = await openRetrying(name);
    const ydoc = new Y.Doc();
    const provider = new WaldenPersistence(doc, ydoc, { store, ...(compactEvery ? { compactEvery } : {}) });
    const errors: string[] = [];
    provider.addEventListener('error', (event) => errors.push(String((event as CustomEvent).detail)));
    current = { doc: ydoc, provider, store, errors };
    await provider.whenSynced;
    return ydoc.getText('t').toString();
  },
  /** Append `token` to the text; resolves once the update is durable. */
  async append(token: string): Promise<void> {
    const text = current!.doc.getText('t');
    text.insert(text.length, token);
    await current!.provider.whenStored();
  },
  text: () => current!.doc.getText('t').toString(),
  errors: () => current!.errors,
  /** How many keys the document's updates take now. */
  async storedKeys(doc: string): Promise<number> {
    return (await current!.store.scanAt({ prefix: `yjs:${doc}/` })).entries.length;
  },
  /** Write a value that is no Yjs update under the document's keys, behind the provider's back. */
  async forge(doc: string): Promise<void> {
    await current!.store.put(`yjs:${doc}/u/forged/0`, 'not an update');
  },
  /** `clearData()`, then how many keys the document still has in the store. */
  async clearData(doc: string): Promise<number> {
    await current!.provider.clearData();
    return (await current!.store.scanAt({ prefix: `yjs:${doc}/` })).entries.length;
  },
  async close(): Promise<void> {
    await current!.provider.destroy();
    await current!.store.close();
  },
  /** What each misuse throws. */
  misuse(): string[] {
    const thrown: string[] = [];
    for (const attempt of [() => new WaldenPersistence('', new Y.Doc()), () => new WaldenPersistence('d', {} as Y.Doc), () => new WaldenPersistence('d', new Y.Doc(), { compactEvery: 0, store: current!.store })]) {
      try {
        attempt();
        thrown.push('nothing');
      } catch (error) {
        thrown.push((error as Error).name);
      }
    }
    return thrown;
  },
};
