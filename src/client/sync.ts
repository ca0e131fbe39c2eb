/**
 * `store.sync()`: the page's handle on a store's sync with a NATS JetStream stream. The sync
 * itself runs in the leader tab's worker (see `host/sync-host.ts`); the handle follows its state
 * with a long poll and fires `state` events.
 */
import type { Remote } from 'comlink';
import { StoreError } from '../errors.js';
import type { EngineApi, SyncCall, SyncInfo, SyncOptions, SyncSnapshotInfo, SyncState } from '../protocol.js';

/** How long one state poll waits in the worker for a change. */
const WATCH_WAIT_MS = 10_000;
/** Between polls that failed (the leader moved, and the new one has not started the sync yet). */
const WATCH_RETRY_MS = 200;

/** A running sync. Get it with `store.sync(options)`; `state` events fire when {@link Sync.state} changes. */
export class Sync extends EventTarget {
  readonly #remote: Remote<EngineApi>;
  readonly stream: string;
  #info: SyncInfo;
  #closed = false;

  /** @internal */
  constructor(remote: Remote<EngineApi>, info: SyncInfo) {
    super();
    this.#remote = remote;
    this.stream = info.stream;
    this.#info = info;
    void this.#follow();
  }

  /** `connecting`, `online`, `offline` (reconnecting with backoff) or `closed`; as last heard from the worker that syncs. */
  get state(): SyncState {
    return this.#info.state;
  }

  /** Pushed and pulled positions, pending records and the last error, now. */
  async info(): Promise<SyncInfo> {
    this.#update((await this.#call({ op: 'info', stream: this.stream })) as SyncInfo);
    return this.#info;
  }

  /** Resolve once every local write made before the call is acknowledged by the stream. */
  async flush(): Promise<void> {
    await this.#call({ op: 'flush', stream: this.stream });
  }

  /** Resolve once everything the stream held at the call is applied to this store. */
  async pulled(): Promise<void> {
    await this.#call({ op: 'pulled', stream: this.stream });
  }

  /**
   * Upload this store's state as a verified export artifact to the stream's Object Store bucket
   * (after {@link Sync.flush} and {@link Sync.pulled}, at a moment when every local write came
   * back from the stream): a new device starts from it, and a device whose history the stream
   * no longer holds resets to it. It replaces the bucket's previous snapshot.
   */
  async snapshot(): Promise<SyncSnapshotInfo> {
    return (await this.#call({ op: 'snapshot', stream: this.stream })) as SyncSnapshotInfo;
  }

  /** Stop syncing (local data stays; a later `store.sync()` goes on from where this one was). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#remote.sync({ op: 'close', stream: this.stream }).catch(() => {});
    this.#update({ ...this.#info, state: 'closed' });
  }

  #call(call: SyncCall): Promise<unknown> {
    if (this.#closed) return Promise.reject(new StoreError('STORE_CLOSED', `sync of ${this.stream} is closed`));
    return this.#remote.sync(call);
  }

  #update(info: SyncInfo): void {
    const before = this.#info.state;
    this.#info = info;
    if (info.state !== before) this.dispatchEvent(new CustomEvent('state', { detail: info }));
  }

  async #follow(): Promise<void> {
    while (!this.#closed) {
      try {
        const info = (await this.#remote.sync({ op: 'watch', stream: this.stream, version: this.#info.version, waitMs: WATCH_WAIT_MS })) as SyncInfo;
        if (this.#closed) return;
        this.#update(info);
        if (info.state === 'closed') return;
      } catch (error) {
        if (error instanceof StoreError && error.code === 'STORE_CLOSED' && /store .* is closed/.test(error.message)) return;
        await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
      }
    }
  }
}

/** Start (or join) the sync of `options.stream` through `remote`. */
export async function startSync(remote: Remote<EngineApi>, options: SyncOptions): Promise<Sync> {
  const info = (await remote.sync({ op: 'start', options })) as SyncInfo;
  return new Sync(remote, info);
}
