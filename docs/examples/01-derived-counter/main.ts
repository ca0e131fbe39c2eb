// A derived counter that survives reloads: `store.consume` resumes from its latest checkpoint,
// restores the counts saved with it, and applies each later change exactly once.
import { openStore } from '../../../src/index.js';
import WaldenWorker from '../../../src/worker.ts?worker';

const store = await openStore('example-todos', { worker: new WaldenWorker() });

// The derived state, and how it is saved with each checkpoint.
let counts = { total: 0, done: 0, applied: 0 };
const known = new Map<string, boolean>(); // key -> done, for the keys seen so far
const encode = () => ({ counts: new TextEncoder().encode(JSON.stringify({ counts, known: [...known] })) });
const decode = (bytes: Uint8Array | undefined) => {
  const saved = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : { counts: { total: 0, done: 0, applied: 0 }, known: [] };
  counts = saved.counts;
  known.clear();
  for (const [key, done] of saved.known) known.set(key, done);
};

const show = () => {
  document.getElementById('total')!.textContent = String(counts.total);
  document.getElementById('doneCount')!.textContent = String(counts.done);
  document.getElementById('applied')!.textContent = String(counts.applied);
};

store.consume(
  'todo-counter',
  (change) => {
    if (change.type === 'reset') {
      // History was dropped: the full state follows, so start from nothing.
      decode(undefined);
      return;
    }
    counts.applied++;
    for (const op of change.ops) {
      const was = known.get(op.key);
      if (was !== undefined) counts.total--, (counts.done -= was ? 1 : 0), known.delete(op.key);
      if (op.type === 'put') {
        const done = (op.value as { done: boolean }).done;
        known.set(op.key, done);
        counts.total++;
        counts.done += done ? 1 : 0;
      }
    }
    show();
  },
  { prefix: 'todo:', every: 20, everyMs: 200, restore: (checkpoint) => decode(checkpoint?.operatorStates.counts), snapshot: encode },
);

let next = Date.now();
document.getElementById('add')!.onclick = () => {
  for (let i = 0; i < 10; i++) void store.put(`todo:${next++}`, { title: `task ${next}`, done: false });
};
document.getElementById('done')!.onclick = async () => {
  let n = 0;
  for await (const [key, value] of store.scan({ prefix: 'todo:' })) {
    if ((value as { done: boolean }).done) continue;
    void store.put(key, { ...(value as object), done: true });
    if (++n === 5) break;
  }
};

// A check anyone can read: the derived counts against a full scan.
(window as unknown as { verify: () => Promise<unknown> }).verify = async () => {
  let total = 0;
  let done = 0;
  for await (const [, value] of store.scan({ prefix: 'todo:' })) total++, (done += (value as { done: boolean }).done ? 1 : 0);
  return { derived: { total: counts.total, done: counts.done }, scanned: { total, done } };
};
show();
document.getElementById('check')!.textContent = 'ready';
