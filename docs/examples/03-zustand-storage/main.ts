// zustand's persist middleware over walden/storage: objects go in as they are (PersistStorage,
// no createJSONStorage), and each setItem resolves once the write is durable.
import { createStore } from 'zustand/vanilla';
import { persist, type PersistStorage } from 'zustand/middleware';
import { openStore } from '../../../src/index.js';
import WaldenWorker from '../../../src/worker.ts?worker';
import { createStorage } from '../../../src/adapters/storage.js';

interface Notes {
  notes: Map<string, string>;
  lastAdded: Date | null;
  add(text: string): void;
}

const store = await openStore('example-notes', { worker: new WaldenWorker() });
const notes = createStore<Notes>()(
  persist(
    (set) => ({
      notes: new Map(),
      lastAdded: null,
      add: (text) => set((s) => ({ notes: new Map(s.notes).set(`n${s.notes.size + 1}`, text), lastAdded: new Date() })),
    }),
    { name: 'notes', storage: createStorage(store, { prefix: 'zustand:' }) as PersistStorage<Notes>, partialize: (s) => ({ notes: s.notes, lastAdded: s.lastAdded }) as Notes },
  ),
);

const show = () => {
  const { notes: all, lastAdded } = notes.getState();
  document.getElementById('count')!.textContent = String(all.size);
  document.getElementById('last')!.textContent = lastAdded ? lastAdded.toISOString() : '–';
  document.getElementById('isDate')!.textContent = String(lastAdded === null || lastAdded instanceof Date);
};
notes.subscribe(show);
await notes.persist.rehydrate();
show();
document.getElementById('add')!.addEventListener('click', () => notes.getState().add(`note at ${new Date().toISOString()}`));
document.getElementById('check')!.textContent = 'ready';
