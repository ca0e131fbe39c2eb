// The app under test: every submitted todo is written to Walden; the count shows what is stored.
import { openStore } from 'walden';

const store = await openStore('todos');
const count = async () => {
  let n = 0;
  for await (const _ of store.scan({ prefix: 'todo:' })) n++;
  document.getElementById('count').textContent = String(n);
};
document.getElementById('add').onsubmit = async (event) => {
  event.preventDefault();
  await store.put(`todo:${Date.now()}-${Math.random()}`, { text: document.getElementById('text').value, at: new Date() });
  await count();
};
await count();
document.body.dataset.ready = 'yes';
