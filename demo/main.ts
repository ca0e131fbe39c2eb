// The demo page: a small UI over one store, with a button that kills the worker mid-write.
import { openStore, type Store } from '../src/index.js';
import WaldenWorker from '../src/worker.ts?worker';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (text: string) => ($('log').textContent = text);
let store: Store | undefined;
let worker: Worker | undefined;
let acknowledged = 0;

async function open(): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    worker = new WaldenWorker();
    try {
      store = await openStore('demo', { worker });
      break;
    } catch (error) {
      worker.terminate();
      // A killed worker's lock is released within milliseconds; retry briefly.
      if ((error as { code?: string }).code !== 'STORE_LOCKED' || attempt > 20) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const info = await store.info();
  log(`Opened at seq ${info.seq}; recovery: ${JSON.stringify(info.recovery)}`);
  await refresh();
}

async function refresh(): Promise<void> {
  if (!store) return;
  $('info').textContent = JSON.stringify(await store.info(), null, 2);
  const list = $('keys');
  list.replaceChildren();
  for await (const [key, value] of store.scan({ limit: 50, reverse: true })) {
    const item = document.createElement('li');
    item.textContent = `${key} = ${JSON.stringify(value)}`;
    list.append(item);
  }
}

$('put').onclick = async () => {
  let value: unknown = $<HTMLInputElement>('value').value;
  try {
    value = JSON.parse(value as string);
  } catch {
    // Not JSON: store the text.
  }
  const seq = await store!.put($<HTMLInputElement>('key').value, value);
  log(`put → seq ${seq} (durable)`);
  await refresh();
};
$('get').onclick = async () => log(`get → ${JSON.stringify(await store!.get($<HTMLInputElement>('key').value))}`);
$('del').onclick = async () => {
  log(`delete → seq ${await store!.delete($<HTMLInputElement>('key').value)}`);
  await refresh();
};
$('bulk').onclick = async () => {
  const started = performance.now();
  const writes = Array.from({ length: 10_000 }, (_, i) => store!.put(`bulk:${String(i).padStart(5, '0')}`, { i, at: new Date() }));
  await Promise.all(writes);
  log(`10,000 durable puts in ${(performance.now() - started).toFixed(0)} ms`);
  await refresh();
};
$('compact').onclick = async () => {
  await store!.compact();
  log('compacted');
  await refresh();
};
$('crash').onclick = async () => {
  acknowledged = 0;
  const s = store!;
  let i = 0;
  const writer = async () => {
    for (;;) {
      await s.put(`crash:${String(i++).padStart(6, '0')}`, { i });
      acknowledged++;
    }
  };
  void writer();
  await new Promise((r) => setTimeout(r, 300));
  worker!.terminate();
  store = undefined;
  log(`Worker killed mid-write after ${acknowledged} acknowledged writes. Press "reopen" (or reload the page).`);
};
$('reopen').onclick = async () => {
  await store?.close();
  const before = acknowledged;
  await open();
  let found = 0;
  for await (const _ of store!.scan({ prefix: 'crash:' })) found++;
  if (before) log(`${$('log').textContent} — crash:* keys present: ${found} (acknowledged before the kill: ${before})`);
};

open().catch((error) => log(`Could not open: ${error}`));
