// walden/react: useStore opens the store, useScan keeps the list live (this tab's writes and
// every other tab's), useValue follows one key. Written with createElement to need no JSX setup.
import { createElement as h, useRef } from 'react';
import { createRoot } from 'react-dom/client';
import WaldenWorker from '../../../src/worker.ts?worker';
import { useScan, useStore, useValue } from '../../../src/adapters/react.js';

interface Todo {
  title: string;
  added: Date;
}

// From the repository the dev server has no built worker script: pass one (an app of its own omits `worker`).
const worker = new WaldenWorker();

function Todos() {
  const store = useStore('example-todos', { worker });
  const todos = useScan<Todo>(store, { prefix: 'todo:' });
  const lastAdded = useValue<string>(store, 'meta:last-added');
  const input = useRef<HTMLInputElement>(null);
  if (!store || !todos) return h('p', { id: 'state' }, 'opening…');
  const add = async () => {
    const title = input.current!.value.trim();
    input.current!.value = '';
    const key = `todo:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await store.batch([
      { type: 'put', key, value: { title: title || 'untitled', added: new Date() } },
      { type: 'put', key: 'meta:last-added', value: title || 'untitled' },
    ]);
  };
  return h(
    'div',
    null,
    h('input', { id: 'title', ref: input, placeholder: 'what to do' }),
    h('button', { id: 'add', onClick: add }, 'add'),
    h('p', { id: 'state' }, `${todos.length} todos · last added: ${lastAdded ?? '–'}`),
    h(
      'ul',
      { id: 'list' },
      todos.map(([key, todo]) =>
        h('li', { key }, `${todo.title} (${todo.added instanceof Date ? 'a Date' : 'not a Date'}) `, h('button', { className: 'done', onClick: () => store.delete(key) }, 'done')),
      ),
    ),
  );
}

createRoot(document.getElementById('root')!).render(h(Todos));
