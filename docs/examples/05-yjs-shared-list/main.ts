// walden/yjs: a Y.Doc persisted into a Walden store and kept live across tabs.
import * as Y from 'yjs';
import { openStore } from '../../../src/index.js';
import WaldenWorker from '../../../src/worker.ts?worker';
import { WaldenPersistence } from '../../../src/adapters/yjs.js';

// From the repository the dev server has no built worker script: pass one (an app of its own
// can write `new WaldenPersistence('shared-list', doc)`, and the provider opens the store).
const store = await openStore('example-yjs', { worker: new WaldenWorker() });
const doc = new Y.Doc();
const provider = new WaldenPersistence('shared-list', doc, { store, compactEvery: 20 });
const items = doc.getArray<string>('items');

const show = () => {
  document.getElementById('items')!.replaceChildren(...items.toArray().map((text) => Object.assign(document.createElement('li'), { textContent: text })));
  document.getElementById('state')!.textContent = `${items.length} items${provider.synced ? '' : ' (loading)'}`;
};
items.observe(show);
await provider.whenSynced;
show();
document.getElementById('add')!.addEventListener('click', () => {
  const input = document.getElementById('text') as HTMLInputElement;
  items.push([input.value || 'untitled']);
  input.value = '';
});
