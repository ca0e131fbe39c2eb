// walden/level: the Level API (sublevels, encodings, iterators) over a Walden store.
import { WaldenLevel } from '../../../src/adapters/level.js';
import WaldenWorker from '../../../src/worker.ts?worker';

// From the repository the dev server has no built worker script: pass one (an app of its own omits `open`).
const db = new WaldenLevel('example-level', { open: { worker: new WaldenWorker() } });
const visits = db.sublevel<string, { at: string; n: number }>('visits', { valueEncoding: 'json' });

const previous = await visits.iterator({ reverse: true, limit: 1 }).all();
const n = (previous[0]?.[1].n ?? 0) + 1;
// Keys sort bytewise: zero-padded numbers keep the visits in order.
await visits.put(String(n).padStart(8, '0'), { at: new Date().toISOString(), n });

const last = await visits.iterator({ reverse: true, limit: 5 }).all();
document.getElementById('count')!.textContent = `visit ${n}`;
document.getElementById('last')!.replaceChildren(...last.map(([key, visit]) => Object.assign(document.createElement('li'), { textContent: `${key}: visit ${visit.n}` })));
