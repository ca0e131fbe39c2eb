/**
 * The worker side of the Comlink interface: routes each call of this worker's page. Every tab's
 * worker runs one host; the one that leads ({@link Leadership}) serves calls on its engine, the
 * others forward them to it over the BroadcastChannel `walden:<name>` and read the change
 * stream's frames it broadcasts.
 *
 * - Exactly once: every commit carries a tag (the page's commits too); the engine's ledger drops
 *   a repeat, so a commit sent again after leadership moved mid-call is applied once.
 * - A call that reaches a worker that no longer leads is sent on to the new leader, never
 *   answered twice ({@link NotLeader}).
 */
import { closedError, StoreError, toStoreError } from '../errors.js';
import type { BackendChoice, ChangePage, EncodedOp, EngineOpenOptions, PageSignal, RecordApi, RequestTag, ResetPage, ScanPage, ScanRange, StallPoint, StoreInfo, SyncCall } from '../protocol.js';
import { IdbCatalog, openCatalogDb } from '../platform/catalog.js';
import { Engine } from '../engine/engine.js';
import { FencedOut, type Fence } from '../engine/fence.js';
import type { Directory } from '../engine/ports.js';
import { LEDGER_WINDOW } from '../engine/ledger.js';
import { acquireLock, lockName } from '../tabs/locks.js';
import { Forwarder } from '../tabs/forwarder.js';
import { FrameRing } from '../tabs/frames.js';
import { toWire, type ForwardedMethod, type TabMessage } from '../tabs/messages.js';
import { dispatch } from './dispatch.js';
import { SyncHost } from './sync-host.js';
import { Leadership } from './leadership.js';
import { crashAt, postToPage, TestingHooks } from './testing-hooks.js';

export { HIDDEN_GRACE_MS, PAGE_SILENT_MS } from './leadership.js';

/** How long `open` waits for a leader to answer before it gives up with `STORE_LOCKED`. */
const OPEN_TIMEOUT_MS = 15_000;

/** Thrown inside the host when a call reached a worker that no longer leads: it is sent again, never answered. */
class NotLeader extends Error {
  override name = 'NotLeader';
}

const alreadyServing = () => new TypeError('this worker already serves a store: give each openStore or importStore its own worker');

/** Build the object `worker.ts` exposes: one store per worker, leading or following. */
export function createEngineHost(): RecordApi {
  let name = '';
  let openOptions: EngineOpenOptions | undefined;
  let channel: BroadcastChannel | undefined;
  let forwarder: Forwarder | undefined;
  let leadership: Leadership | undefined;
  const ring = new FrameRing();
  const testing = new TestingHooks();
  /** The last seq broadcast in a frame. */
  let lastFramed = 0;
  let closed = false;
  let broken: StoreError | undefined;
  let onReady: (() => void) | undefined;
  let onOpenFailed: ((error: unknown) => void) | undefined;
  const inflight = new Set<Promise<unknown>>();
  let fencedCommits = 0;
  /** Snapshots this worker found damaged after opening them (the reopen that followed no longer sees them). */
  const damageFound: { file: string; reason: string }[] = [];
  /** The catalog of the engine this worker leads with (sync saves its outbox checkpoint there). */
  let leaderCatalog: IdbCatalog | undefined;
  const syncs = new SyncHost({
    get store() {
      return name;
    },
    leading: () => (closed || broken ? undefined : leadership?.leading()),
    catalog: () => leaderCatalog,
    commitComputed: (engine, compute) => commitComputedHere(engine, compute),
    forward: (call) => forwarder!.call('sync', [call]),
  });

  const post = (message: TabMessage) => channel?.postMessage(message);

  function checkUsable(): void {
    if (closed) throw closedError(name);
    if (broken) throw broken;
  }

  function fail(error: unknown): void {
    const storeError = toStoreError(error, 'walden');
    if (onOpenFailed) {
      onOpenFailed(storeError);
      return;
    }
    broken = storeError;
    leadership?.stop();
    forwarder?.failAll(storeError);
  }

  async function openEngine(dir: Directory, catalog: IdbCatalog, fence: Fence, epoch: number, takeover: boolean): Promise<Engine> {
    const options = openOptions!;
    leaderCatalog = catalog;
    // The test hook that crashes at a compaction point halts the engine it is given here.
    let opened: Engine | undefined = undefined;
    opened = await Engine.open(dir, catalog, name, {
      durability: options.durability,
      fence: () => fence.check(epoch),
      ...(takeover ? { takeoverEpoch: epoch } : {}),
      ...(options.testing ? { testingPause: testing.pause } : {}),
      ...(options.compactThresholdBytes !== undefined ? { compactThresholdBytes: options.compactThresholdBytes } : {}),
      ...(options.historyBytes !== undefined ? { historyBytes: options.historyBytes } : {}),
      ...(options.crashAtCompactionPoint ? { atCompactionPoint: crashAt(options.crashAtCompactionPoint, () => opened?.halt()) } : {}),
      headroom: async () => {
        // Unknown where the engine has no StorageManager (WebKitGTK without StorageAPI).
        if (!navigator.storage?.estimate) return undefined;
        const { quota, usage } = await navigator.storage.estimate();
        return quota === undefined || usage === undefined ? undefined : quota - usage;
      },
      onBackgroundError: (error) => console.error('walden: background work failed', error),
      // Found after the open; the row is gone, so opening again recovers from the previous generation.
      onSnapshotDamaged: (error, damage) => {
        console.error(`walden: ${error.message}`);
        damageFound.push(damage);
        void leadership?.stepDown(true);
      },
    });
    return opened;
  }

  function onMessage(message: TabMessage): void {
    leadership?.receive(message);
    switch (message.t) {
      case 'req':
        if (message.to !== leadership?.id || !leadership.leading()) return; // the sender will try the next leader
        serve(message.method, message.args, message.tag).then(
          (value) => {
            if (message.method === 'commit' && testing.dieNow()) {
              leadership?.leading()?.halt();
              postToPage({ waldenTestingCrash: 'applied-not-answered' });
              return;
            }
            post({ t: 'res', to: message.from, id: message.id, epoch: leadership!.epoch, ok: true, value });
          },
          (error: unknown) => {
            if (!(error instanceof NotLeader)) post({ t: 'res', to: message.from, id: message.id, epoch: leadership!.epoch, ok: false, error: toWire(error) });
          },
        );
        return;
      case 'res':
        forwarder?.receive(message);
        return;
      case 'frame':
        if (leadership?.role !== 'leader') ring.add(message.epoch, message.changes);
        return;
      default:
        return;
    }
  }

  /**
   * Run a call on this worker's engine (it leads).
   *
   * @throws NotLeader when it stopped leading before or during the call (the caller sends it on).
   */
  async function serve(method: ForwardedMethod, args: unknown[], tag?: RequestTag): Promise<unknown> {
    const current = leadership?.leading();
    if (!current) throw new NotLeader();
    try {
      if (method === 'sync') return await syncs.serve(args[0] as SyncCall);
      return await dispatch(current, method, args, commitHere, tag);
    } catch (error) {
      throw notLeaderIfReplaced(error);
    }
  }

  /** Commit on this worker's engine, after making sure no newer leader exists; then send the frame. */
  async function commitHere(current: Engine, writes: EncodedOp[][], tag?: RequestTag): Promise<number[]> {
    // This thread was stalled (or frozen): a follower may have stolen the lock meanwhile. (Else
    // the caller found `current` leading in this same task, and the engine reads the fence again
    // after its flush, before it acknowledges: a third read here found nothing those two miss.)
    if (leadership!.stalled) {
      await leadership!.verify();
      if (leadership!.leading() !== current) {
        fencedCommits++;
        throw new NotLeader();
      }
    }
    return sendFrame(writes, await current.commit(writes, tag));
  }

  /** Commit what sync computes at commit time on this worker's engine; as {@link commitHere}, but never sent on to another leader. */
  async function commitComputedHere(current: Engine, compute: () => EncodedOp[][]): Promise<number[]> {
    if (leadership!.stalled) await leadership!.verify();
    if (leadership!.leading() !== current) throw new StoreError('STORE_CLOSED', 'this worker no longer leads');
    let writes: EncodedOp[][] = [];
    const seqs = await current.commitComputed(() => (writes = compute()));
    return sendFrame(writes, seqs);
  }

  /** Broadcast the records just committed, while any follower listens (a follower that missed frames resyncs). */
  function sendFrame(writes: EncodedOp[][], seqs: number[]): number[] {
    const last = seqs[seqs.length - 1] ?? 0;
    if (last > lastFramed) {
      lastFramed = last;
      // After frames were skipped, the next one starts a new run in each follower (a gap): fine.
      if (leadership!.followersListening) post({ t: 'frame', epoch: leadership!.epoch, changes: writes.map((ops, i) => ({ seq: seqs[i]!, ops })) });
    }
    return seqs;
  }

  /** This worker's engine, when it leads and nothing (a stall check, a step-down) stands in the way of serving directly. */
  function fastPath(): Engine | undefined {
    return closed || broken || !leadership || leadership.stalled ? undefined : leadership.leading();
  }

  /**
   * What a call that failed on this worker's engine means: {@link NotLeader} (send it to the
   * new leader) when this worker was replaced before or during the call, else the error itself.
   */
  function notLeaderIfReplaced(error: unknown): unknown {
    if (error instanceof FencedOut) {
      fencedCommits++;
      void leadership?.depose();
      return new NotLeader();
    }
    if (!leadership?.leading() && error instanceof StoreError && error.code === 'STORE_CLOSED' && !closed) return new NotLeader();
    return error;
  }

  /**
   * A commit from this worker's page: here when leading, else through the leader. Once tried
   * here it is tagged and keeps the tag across leaders, so that if this worker turns out to
   * have been replaced mid-commit (it was frozen), the new leader applies it exactly once: its
   * ledger knows the tag if the records made it before the seal.
   */
  async function commit(writes: EncodedOp[][]): Promise<number[]> {
    // Untagged until tried here: the forwarder merges untagged commits waiting together.
    let tag: RequestTag | undefined;
    for (;;) {
      checkUsable();
      const current = leadership!.leading();
      if (!current) return forwarder!.commit(writes, tag);
      tag ??= forwarder!.nextTag();
      try {
        return await commitHere(current, writes, tag);
      } catch (error) {
        const meaning = notLeaderIfReplaced(error);
        if (!(meaning instanceof NotLeader)) throw meaning;
      }
    }
  }

  /** A call from this worker's page: run here when leading, else forward; retried if leadership moves mid-call. */
  async function route<T>(method: Exclude<ForwardedMethod, 'commit' | 'sync'>, args: unknown[]): Promise<T> {
    for (;;) {
      checkUsable();
      if (!leadership?.leading()) {
        if (method === 'readChanges') {
          const [since, range, max, waitMs] = args as [number, ScanRange, number, number];
          const local = await ring.read(since, range, max, waitMs);
          if (local.kind === 'changes') return local as T;
        }
        return forwarder!.call<T>(method, args);
      }
      try {
        return (await serve(method, args)) as T;
      } catch (error) {
        // Stepped down before the call ran: nothing was applied; go through the new leader.
        if (!(error instanceof NotLeader)) throw error;
      }
    }
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inflight.add(promise);
    const done = () => inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  return {
    async open(storeName: string, options: EngineOpenOptions): Promise<StoreInfo> {
      performance.mark?.('walden:open');
      if (openOptions) throw alreadyServing();
      name = storeName;
      openOptions = options;
      channel = new BroadcastChannel(lockName(name));
      channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
      const ready = new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onOpenFailed = reject;
      });
      leadership = new Leadership(name, {
        post,
        roleChanged: (role, epoch) => {
          if (role !== 'leader') void syncs.stopAll();
          postToPage({ waldenRole: { role, epoch } });
        },
        openEngine,
        elected() {
          forwarder?.setLeader(undefined);
          ring.clear();
        },
        opened(engine, takeover) {
          if (!testing.dieInTakeover(takeover)) return true;
          engine.halt();
          postToPage({ waldenTestingCrash: 'takeover' });
          return false;
        },
        leading(engine) {
          lastFramed = engine.info().seq;
          onReady?.();
          syncs.leading(engine);
          // Calls this worker had forwarded to the old leader now run here (commits keep their tags).
          for (const call of forwarder?.drain() ?? []) {
            serve(call.method, call.args, call.tag).then(call.resolve, (error: unknown) => (error instanceof NotLeader ? forwarder?.restore(call) : call.reject(error)));
          }
        },
        leaderHeard(id, epoch) {
          forwarder?.setLeader(id, epoch);
          if (id !== undefined) {
            onReady?.();
            syncs.leaderHeard();
          }
        },
        failed: fail,
      }, options.backend);
      forwarder = new Forwarder(leadership.id, post, LEDGER_WINDOW);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await leadership.join();
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StoreError('STORE_LOCKED', `store ${JSON.stringify(name)} is held by a context that does not answer (another Walden version, or an import in progress)`)), OPEN_TIMEOUT_MS);
        });
        await Promise.race([ready, timeout]);
        onOpenFailed = undefined;
        return await this.info();
      } catch (error) {
        await this.close();
        throw error;
      } finally {
        clearTimeout(timer);
        onReady = undefined;
        onOpenFailed = undefined;
      }
    },
    commit(writes: EncodedOp[][]) {
      return track(commit(writes));
    },
    async get(key: string) {
      const current = fastPath();
      return current ? current.get(key) : route<Uint8Array | undefined>('get', [key]);
    },
    async getMany(keys: string[]) {
      const current = fastPath();
      return current ? current.getMany(keys) : route<(Uint8Array | undefined)[]>('getMany', [keys]);
    },
    scan: (range: ScanRange, pageSize: number) => route<ScanPage>('scan', [range, pageSize]),
    readChanges: (since: number, range: ScanRange, maxRecords: number, waitMs: number) => route<ChangePage>('readChanges', [since, range, maxRecords, waitMs]),
    readResetView: (view: number, afterKey: string | undefined, range: ScanRange, pageSize: number) => route<ResetPage>('readResetView', [view, afterKey, range, pageSize]),
    async wake() {
      ring.clear();
      if (openOptions && !closed) await route<void>('wake', []).catch(() => {});
    },
    exportBegin: () => route('exportBegin', []),
    exportChunk: (view: number, maxBytes: number) => route<{ bytes: Uint8Array; done: boolean }>('exportChunk', [view, maxBytes]),
    async importArtifact(storeName: string, artifact: Blob, options: { replace: boolean; expectedManifest?: string; backend?: BackendChoice }): Promise<StoreInfo> {
      if (openOptions) throw alreadyServing();
      const held = await acquireLock(storeName, 'now');
      if (!held) throw new StoreError('STORE_LOCKED', `store ${JSON.stringify(storeName)} is open; close it before importing over it`);
      const db = new IdbCatalog(await openCatalogDb());
      try {
        // The import path (tar, SHA-256, staging) loads only when a store is imported.
        const { importIntoStore } = await import('./import.js');
        return await importIntoStore(storeName, artifact, options, db);
      } finally {
        db.close();
        held.release();
      }
    },
    compact: () => route<void>('compact', []),
    async info(): Promise<StoreInfo> {
      const info = await route<StoreInfo>('info', []);
      const recovery = damageFound.length > 0 ? { ...info.recovery, damagedFiles: [...damageFound, ...info.recovery.damagedFiles.filter((d) => !damageFound.some((f) => f.file === d.file))] } : info.recovery;
      const { failovers, deposed, handovers } = leadership!.stats;
      return { ...info, recovery, role: leadership!.role, epoch: leadership!.epoch, failovers, fencedCommits, deposed, handovers, frameGaps: ring.gaps };
    },
    sync(call: SyncCall) {
      checkUsable();
      return syncs.call(call);
    },
    testingStall(ms: number, at: StallPoint = 'now') {
      if (!openOptions?.testing) throw new StoreError('STORE_UNSUPPORTED', 'testingStall needs walden/testing');
      testing.stall(ms, at);
    },
    testingCrashBeforeAnswer(commits: number) {
      if (!openOptions?.testing) throw new StoreError('STORE_UNSUPPORTED', 'testingCrashBeforeAnswer needs walden/testing');
      testing.crashBeforeAnswer(commits);
    },
    testingCrashOnTakeover() {
      if (!openOptions?.testing) throw new StoreError('STORE_UNSUPPORTED', 'testingCrashOnTakeover needs walden/testing');
      testing.crashOnTakeover();
    },
    signal(message: PageSignal) {
      leadership?.signal(message);
    },
    async close() {
      if (closed) return;
      await Promise.allSettled([...inflight]);
      closed = true;
      await syncs.stopAll();
      await leadership?.close();
      forwarder?.failAll(closedError(name));
      ring.clear();
      channel?.close();
    },
  };
}
