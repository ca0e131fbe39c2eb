// Walden Notes: an offline-first notes app on one Walden store, with a panel of the store's insides.
import { importStore, openStore, type Store, type Sync } from '../src/index.js';
import WaldenWorker from '../src/worker.ts?worker';

const params = new URLSearchParams(location.search);
// `?device=2` opens another store in this browser: a second "device" for the sync demo.
const DEVICE = params.get('device');
const STORE = DEVICE ? `walden-notes-${DEVICE.replace(/[^A-Za-z0-9_-]/g, '')}` : 'walden-notes';
/** `?sync` (or `?sync=ws://host:port`): sync the notes through the NATS server of `npm run demo:sync`. */
const SYNC_SERVER = params.has('sync') ? params.get('sync') || 'ws://127.0.0.1:9222' : undefined;
let sync: Sync | undefined;
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const log = (text: string) => ($('log').textContent = text);

interface Note {
  title: string;
  body: string;
  createdAt: Date;
  /** A picture attached offline: the File itself is the value, stored in the log. */
  picture?: File;
}

/** Object URLs of the pictures on screen, revoked when the list is drawn again. */
let pictureUrls: string[] = [];

let store: Store | undefined;
let worker: Worker | undefined;
let derived = { notes: 0, words: 0 };

async function open(): Promise<void> {
  worker = new WaldenWorker();
  // In a second tab this tab's worker follows the first tab's: the same API, forwarded.
  store = await openStore(STORE, { worker, persist: true });
  $('badge').textContent = navigator.onLine ? 'saved on this device' : 'offline · saved on this device';
  store.addEventListener('rolechange', () => void renderPanel());
  startIndex(store);
  void followChanges(store);
  await render();
  if (SYNC_SERVER) void startSync(store, SYNC_SERVER);
}

/** Sync the notes with the demo's NATS server; the panel shows where sync stands. */
async function startSync(s: Store, servers: string): Promise<void> {
  $('sync-panel').hidden = false;
  try {
    sync = await s.sync({ servers, stream: 'walden-demo-notes', user: params.get('user') ?? 'demo', pass: params.get('pass') ?? 'demo' });
    sync.addEventListener('state', () => void renderSync());
    await renderSync();
  } catch (error) {
    $('sync').textContent = `sync did not start: ${(error as Error).message}`;
  }
}

async function renderSync(): Promise<void> {
  if (!sync) return;
  const info = await sync.info();
  const rows: [string, string][] = [
    ['state', info.state],
    ['device', info.device],
    ['pushed local seq', String(info.pushedSeq)],
    ['pulled stream seq', String(info.pulledStreamSeq)],
    ['waiting to go out', String(info.pendingRecords)],
    ['applied from others', String(info.applied)],
    ['snapshots applied', String(info.snapshotsApplied)],
    ['last error', info.lastError ? `${info.lastError.code}: ${info.lastError.message}` : '—'],
  ];
  $('sync').replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
}

/** Every tab renders what any tab writes: the change feed is the same in leader and followers. */
async function followChanges(s: Store): Promise<void> {
  let pending = false;
  for await (const change of s.watch({ prefix: 'note:' })) {
    if (change.type === 'reset' || pending) continue;
    pending = true;
    setTimeout(() => {
      pending = false;
      void render();
    }, 50);
  }
}

/** A derived index kept by a checkpointed consumer: it resumes where it was after a reload. */
function startIndex(s: Store): void {
  s.consume(
    'note-index',
    (change) => {
      if (change.type === 'reset') derived = { notes: 0, words: 0 };
      else
        for (const op of change.ops) {
          if (op.type === 'put') derived.notes++, (derived.words += String((op.value as Note).body ?? '').split(/\s+/).filter(Boolean).length);
          else derived.notes--;
        }
    },
    {
      prefix: 'note:',
      every: 50,
      everyMs: 500,
      restore: (checkpoint) => {
        const bytes = checkpoint?.operatorStates.counts;
        derived = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : { notes: 0, words: 0 };
      },
      snapshot: () => ({ counts: new TextEncoder().encode(JSON.stringify(derived)) }),
    },
  );
}

async function catalogRows(): Promise<{ seq: number; file: string; bytes: number }[]> {
  return new Promise((resolve) => {
    const request = indexedDB.open('walden');
    request.onsuccess = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains('snapshots')) return resolve([]);
      const all = db.transaction('snapshots').objectStore('snapshots').getAll();
      all.onsuccess = () => {
        db.close();
        resolve((all.result as { store: string; seq: number; file: string; bytes: number }[]).filter((r) => r.store === STORE));
      };
    };
    request.onerror = () => resolve([]);
  });
}

let renderToken = 0;

async function render(): Promise<void> {
  if (!store) return;
  // Renders overlap when writes come fast: only the newest one may touch the list.
  const token = ++renderToken;
  const query = $<HTMLInputElement>('search').value.toLowerCase();
  const items: HTMLLIElement[] = [];
  const urls: string[] = [];
  let shown = 0;
  for await (const [key, value] of store.scan({ prefix: 'note:', reverse: true, limit: 200 })) {
    const note = value as Note;
    if (query && !`${note.title} ${note.body}`.toLowerCase().includes(query)) continue;
    const item = document.createElement('li');
    item.dataset.key = key;
    item.innerHTML = '<div class="text"><b></b><span></span><br><small></small></div><button title="Delete">✕</button>';
    item.querySelector('b')!.textContent = note.title;
    item.querySelector('span')!.textContent = note.body;
    item.querySelector('small')!.textContent = note.createdAt.toLocaleString();
    if (note.picture) {
      const url = URL.createObjectURL(note.picture);
      urls.push(url);
      const img = Object.assign(document.createElement('img'), { src: url, alt: note.picture.name, className: 'picture' });
      item.querySelector('.text')!.append(img);
    }
    item.querySelector('button')!.onclick = async () => {
      await store!.delete(key);
      await render();
    };
    items.push(item);
    shown++;
  }
  if (token !== renderToken) return urls.forEach((url) => URL.revokeObjectURL(url));
  pictureUrls.forEach((url) => URL.revokeObjectURL(url));
  pictureUrls = urls;
  $('notes').replaceChildren(...items);
  $('empty').hidden = shown > 0;
  await renderPanel();
}

/** The panel of the store's insides; refreshed every second, so it is live. */
async function renderPanel(): Promise<void> {
  if (!store) return;
  const info = await store.info();
  const stats: [string, string][] = [
    ['seq', String(info.seq)],
    ['durable seq', String(info.durableSeq)],
    ['keys', info.keys.toLocaleString()],
    ['WAL bytes', info.walBytes.toLocaleString()],
    ['snapshot seq', String(info.snapshotSeq)],
    ['durability', info.durability],
    ['role', store.role === 'leader' ? 'leader (this tab owns the files)' : 'follower (the leader tab writes for it)'],
    ['leader epoch', String(info.epoch)],
    ['persistent storage', String(info.persisted)],
    ['storage used', info.storage.usage === undefined ? '?' : `${(info.storage.usage / 1e6).toFixed(1)} MB`],
    ['derived: notes / words', `${derived.notes} / ${derived.words}`],
  ];
  $('stats').replaceChildren(...stats.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
  $('snapshots').replaceChildren(...(await catalogRows()).map((r) => Object.assign(document.createElement('li'), { textContent: `${r.file} · seq ${r.seq} · ${r.bytes.toLocaleString()} B` })));
  const checkpoints = await store.checkpoints.list('note-index');
  $('checkpoints').replaceChildren(...checkpoints.slice(-5).map((c) => Object.assign(document.createElement('li'), { textContent: `note-index @ seq ${c.sequence} · ${c.eventCount} changes` })));
  $('recovery').textContent = JSON.stringify(info.recovery, null, 2);
}

$('compose').onsubmit = async (event) => {
  event.preventDefault();
  const title = $<HTMLInputElement>('title').value.trim();
  const body = $<HTMLTextAreaElement>('body').value.trim();
  const picture = $<HTMLInputElement>('picture').files?.[0];
  const note: Note = picture ? { title, body, createdAt: new Date(), picture } : { title, body, createdAt: new Date() };
  const seq = await store!.put(`note:${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`, note);
  $<HTMLFormElement>('compose').reset();
  log(`Saved (seq ${seq}): on disk before this message appeared.`);
  await render();
};
$('search').oninput = () => void render();
$('bulk').onclick = async () => {
  const started = performance.now();
  await Promise.all(Array.from({ length: 10_000 }, (_, i) => store!.put(`bulk:${String(i).padStart(5, '0')}`, { i, at: new Date() })));
  log(`10,000 durable writes in ${(performance.now() - started).toFixed(0)} ms.`);
  await render();
};
$('sync-snapshot').onclick = async () => {
  try {
    const snapshot = await sync!.snapshot();
    log(`Snapshot at stream seq ${snapshot.pulledStreamSeq} uploaded (${snapshot.bytes.toLocaleString()} B): a new device starts from it.`);
  } catch (error) {
    log(`Snapshot failed: ${(error as Error).message}`);
  }
};
$('compact').onclick = async () => {
  await store!.compact();
  log('Compacted: a new snapshot is committed and the log restarted.');
  await render();
};
$('crash').onclick = async () => {
  const s = store!;
  let saved = 0;
  const writer = async () => {
    for (let i = 0; ; i++) {
      await s.put(`note:crash-${Date.now().toString(36)}-${i}`, { title: `Crash test ${i}`, body: 'written while the worker was killed', createdAt: new Date() } satisfies Note);
      saved++;
    }
  };
  void writer();
  await new Promise((r) => setTimeout(r, 250));
  worker!.terminate();
  store = undefined;
  log(`Killed the worker mid-write after ${saved} acknowledged notes. Reload: all ${saved} will be back.`);
};
$('reload').onclick = () => location.reload();
$('export').onclick = async () => {
  const blob = await store!.export();
  const link = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: `walden-notes-${new Date().toISOString().slice(0, 19)}.tar` });
  link.click();
  log(`Exported ${(blob.size / 1024).toFixed(0)} KB: a tar with a manifest of SHA-256 hashes.`);
};
$<HTMLInputElement>('import').onchange = async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  await store?.close();
  try {
    const info = await importStore(STORE, file, { replace: true, worker: new WaldenWorker() });
    log(`Imported a backup at seq ${info.seq}.`);
  } catch (error) {
    log(`Refused: ${(error as Error).message}`);
  }
  await open();
};
addEventListener('online', () => ($('badge').textContent = 'saved on this device'));
addEventListener('offline', () => ($('badge').textContent = 'offline · saved on this device'));

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').then(async () => {
    const registration = await navigator.serviceWorker.ready;
    // Cache what this page loaded before the service worker controlled it.
    const urls = [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)].filter((u) => new URL(u).origin === location.origin);
    registration.active?.postMessage({ cache: [...new Set(urls)] });
  });
}

setInterval(() => void renderPanel().then(renderSync).catch(() => {}), 1000);
open().catch((error) => log(`Could not open the store: ${error}`));
