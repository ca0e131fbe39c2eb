/**
 * The worker side of the Comlink interface. Every tab's worker runs one host; the host holding
 * the store's Web Lock is the leader and owns the files (an {@link Engine}); the others are
 * followers and forward each call to it over the BroadcastChannel `walden:<name>`.
 *
 * - Election: the lock. A follower queues for it; when the leader's tab closes or crashes the
 *   browser releases it, the next follower gets it, starts a new epoch, recovers and serves.
 * - Liveness: the leader beats every {@link HEARTBEAT_MS}; a follower that hears nothing for
 *   {@link LEADER_SILENT_MS} steals the lock. A leader whose page stops pinging it (the tab is
 *   frozen) hands over when another tab is waiting; `pagehide` hands over at once.
 * - Fencing: a leader that lost the lock, or hears a higher epoch, stops at once; before a
 *   commit after any stall it re-reads the epoch from IndexedDB, and steps down if it is stale.
 *   A new leader cannot open the files while the old one holds them, so nothing the old one
 *   acknowledged is missing from what the new one recovers.
 * - Exactly once: followers tag forwarded commits; the engine's ledger drops repeats.
 */
import { closedError, StoreError } from '../errors.js';
import type { ChangePage, CompactionPoint, EncodedOp, RecordApi, EngineOpenOptions, PageSignal, ResetPage, ScanPage, ScanRange, StallPoint, StoreInfo, TabRole } from '../protocol.js';
import { IdbCatalog, openCatalogDb } from '../platform/catalog.js';
import { Engine } from '../engine/engine.js';
import { Fence, FencedOut } from '../engine/fence.js';
import { openOpfsDirectory } from '../platform/opfs.js';
import { dispatch } from './dispatch.js';
import type { Directory, FileLike } from '../engine/ports.js';
import type { RequestTag } from '../protocol.js';
import { LEDGER_WINDOW } from '../engine/ledger.js';
import { acquireLock, lockName, othersWaiting, type HeldLock } from '../tabs/locks.js';
import { Forwarder } from '../tabs/forwarder.js';
import { FrameRing } from '../tabs/frames.js';
import { HEARTBEAT_MS, LEADER_SILENT_MS, OPENING_SILENT_MS, toWire, type ForwardedMethod, type TabMessage } from '../tabs/messages.js';

/** A leader whose page has not pinged it for this long hands over, if another tab waits. */
export const PAGE_SILENT_MS = 4_000;
/** A leader whose page has been hidden this long hands over to a visible tab (switching tabs briefly does not). */
export const HIDDEN_GRACE_MS = 1_500;
/** A leader checks the epoch in IndexedDB before committing when its heartbeat is this late. */
const STALL_CHECK_MS = 1_000;
/** A leader sends frames while it has heard a follower within this long (followers say so every second). */
const FOLLOWER_SILENT_MS = 3_000;
/** How long `open` waits for a leader to answer before it gives up with `STORE_LOCKED`. */
const OPEN_TIMEOUT_MS = 15_000;

/**
 * Test-only: a compaction hook that stops the engine at `point` and tells the page, which then
 * terminates this worker (a worker cannot stop itself mid-task).
 */
function crashAt(point: CompactionPoint, halt: () => void): (at: CompactionPoint) => void {
  return (at) => {
    if (at !== point) return;
    halt();
    postToPage({ waldenTestingCrash: at });
    throw new Error(`walden/testing: crashed at compaction point ${at}`);
  };
}

function postToPage(message: unknown): void {
  (self as unknown as { postMessage(message: unknown): void }).postMessage(message);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Test-only: a hung tab; nothing else runs on this thread meanwhile. */
function blockThread(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // hung
  }
}

/** Thrown inside the host when a call reached a worker that no longer leads: it is sent again, never answered. */
class NotLeader extends Error {
  override name = 'NotLeader';
}

/** Whether an open failed only because another context still holds a file. */
function heldElsewhere(error: unknown): boolean {
  const e = error as { name?: string; cause?: { name?: string } } | null;
  return e?.name === 'NoModificationAllowedError' || e?.cause?.name === 'NoModificationAllowedError';
}

/** A directory that remembers what it opened, to close it all if opening the engine fails. */
function tracked(dir: Directory): { dir: Directory; closeAll(): void } {
  const opened: FileLike[] = [];
  return {
    dir: {
      list: () => dir.list(),
      remove: (name) => dir.remove(name),
      async open(name, options) {
        const file = await dir.open(name, options);
        opened.push(file);
        return file;
      },
    },
    closeAll() {
      for (const file of opened) {
        try {
          file.close();
        } catch {
          // already closed
        }
      }
    },
  };
}

/** Build the object `worker.ts` exposes: one store per worker, leading or following. */
export function createEngineHost(): RecordApi {
  const self = crypto.randomUUID();
  let name = '';
  let openOptions: EngineOpenOptions | undefined;
  let channel: BroadcastChannel | undefined;
  let forwarder: Forwarder | undefined;
  const ring = new FrameRing();
  let catalog: IdbCatalog | undefined;

  let role: TabRole = 'follower';
  let engine: Engine | undefined;
  /** The fence of the files this worker leads (claimed with `epoch`). */
  let fence: Fence | undefined;
  let epoch = 0;
  let lock: HeldLock | undefined;
  let lockLost = false;
  let queued: AbortController | undefined;
  /** Set while this worker steals the lock (its queued request, if any, was withdrawn). */
  let stealing = false;
  /** Set once `open` has tried for the lock: only then may the worker queue for it. */
  let joined = false;
  let beatTimer: ReturnType<typeof setInterval> | undefined;
  let watchTimer: ReturnType<typeof setInterval> | undefined;
  let lastBeat = 0;
  let lastFramed = 0;
  /** Set when this leader's thread was stalled: commits wait for the epoch check. */
  let verifying: Promise<void> | undefined;

  /** When a follower was last heard: frames are only worth sending while someone listens. */
  let followerSeenAt = Number.NEGATIVE_INFINITY;
  let watchTicks = 0;

  // What this worker knows of the leader.
  let knownEpoch = 0;
  let leaderSeenAt = 0;
  let leaderReady = false;
  /** Whether another worker has led while this one was open (so leading now is a takeover). */
  let sawLeader = false;
  const stealJitter = Math.random() * 1_000;

  let pageSeenAt = performance.now();
  /** Set when this worker handed over because its page went quiet, hidden or away: it queues again once its page is back and visible. */
  let pageAway = false;
  let pageVisible = true;
  let pageHiddenAt = 0;
  /** When a follower whose page is visible was last heard. */
  let visibleFollowerSeenAt = Number.NEGATIVE_INFINITY;
  let closed = false;
  let broken: StoreError | undefined;
  let onReady: (() => void) | undefined;
  let onOpenFailed: ((error: unknown) => void) | undefined;
  const inflight = new Set<Promise<unknown>>();
  const stats = { failovers: 0, steals: 0, fencedCommits: 0, deposed: 0, handovers: 0 };
  /** Snapshots this worker found damaged after opening them (the reopen that followed no longer sees them). */
  const damageFound: { file: string; reason: string }[] = [];
  /** Test-only: apply this many more forwarded commits, then die without answering the last. */
  let crashBeforeAnswer = 0;
  /** Test-only: block the thread inside the next commit, at this point. */
  let stallAt: { point: StallPoint; ms: number } | undefined;

  const post = (message: TabMessage) => channel?.postMessage(message);
  const announce = (ready: boolean) => post({ t: 'leader', id: self, epoch, ready });
  const tellPage = () => postToPage({ waldenRole: { role, epoch: knownEpoch } });

  /**
   * This worker's engine while it leads. A leader replaced while its thread did not run finds
   * a newer epoch in the fence (a few microseconds) and steps down before it serves anything.
   */
  function leading(): Engine | undefined {
    if (role !== 'leader' || !engine || lockLost) return undefined;
    if (fence && fence.epoch() > epoch) {
      void depose();
      return undefined;
    }
    return engine;
  }

  function checkUsable(): void {
    if (closed) throw closedError(name);
    if (broken) throw broken;
  }

  function queueForLock(): void {
    // A hidden tab does not queue: when the leader hands over, a visible tab takes over.
    if (!joined || closed || broken || queued || role === 'leader' || !pageVisible) return;
    const controller = new AbortController();
    queued = controller;
    acquireLock(name, 'queue', controller.signal).then(
      (held) => {
        // Withdrawn meanwhile (a steal began, the page was hidden, the store closed), yet granted
        // in the same instant: not this request's to use. One way to leadership at a time.
        if (queued !== controller) {
          held?.release();
          return;
        }
        queued = undefined;
        if (held) void promote(held);
      },
      (error: unknown) => fail(error),
    );
  }

  async function steal(): Promise<void> {
    if (role === 'leader' || stealing) return;
    stats.steals++;
    stealing = true;
    queued?.abort();
    queued = undefined;
    try {
      const held = await acquireLock(name, 'steal');
      if (held) await promote(held, true);
    } finally {
      stealing = false;
    }
  }

  /**
   * This worker got the lock: new epoch, claim the fence, open the files, serve. With `stolen`
   * the old leader may still run: where files can be shared (`readwrite-unsafe`), the log goes
   * on in a segment of this leader's own; elsewhere the open waits until the old one lets go.
   */
  async function promote(held: HeldLock, stolen = false): Promise<void> {
    if (closed) {
      held.release();
      return;
    }
    lock = held;
    lockLost = false;
    role = 'leader';
    held.lost.then(() => {
      if (lock === held) depose();
    });
    // The directory handle holds no file open: get it while IndexedDB opens.
    const directory = openOpfsDirectory(name);
    directory.catch(() => {});
    try {
      catalog ??= new IdbCatalog(await openCatalogDb());
      epoch = await catalog.nextEpoch(name);
      knownEpoch = epoch;
      startBeating();
      announce(false);
      forwarder?.setLeader(undefined);
      ring.clear();
      for (let attempt = 0; ; attempt++) {
        if (lockLost || closed) return;
        const files = tracked(await directory);
        try {
          // - The fence first: from here the old leader acknowledges nothing, so what this one
          //   reads below is everything that was ever acknowledged.
          const claimed = await Fence.open(files.dir);
          // A predecessor that did not let go cleanly (stolen from, crashed, frozen) may still
          // write into its last segment: then the log goes on in a segment of this leader's own.
          const prior = claimed.state();
          claimed.claim(epoch);
          engine = await openEngine(files.dir, claimed, stolen || !prior.released);
          fence = claimed;
          break;
        } catch (error) {
          files.closeAll();
          // The old leader still holds a file (it is stalled, or its context is going away).
          if (!heldElsewhere(error)) throw error;
          await sleep(Math.min(25 * 2 ** attempt, 500));
        }
      }
      if (lockLost || closed) {
        await engine.close();
        engine = undefined;
        return;
      }
      lastFramed = engine.info().seq;
      announce(true);
      tellPage();
      if (sawLeader) stats.failovers++;
      onReady?.();
      // Calls this worker had forwarded to the old leader now run here (commits keep their tags).
      for (const call of forwarder?.drain() ?? []) {
        serve(call.method, call.args, call.tag).then(call.resolve, (error: unknown) => (error instanceof NotLeader ? forwarder?.restore(call) : call.reject(error)));
      }
    } catch (error) {
      role = 'follower';
      stopBeating();
      engine = undefined;
      lock = undefined;
      held.release();
      fail(error);
    }
  }

  function openEngine(dir: Directory, claimed: Fence, takeover: boolean): Promise<Engine> {
    const options = openOptions!;
    const mine = epoch;
    return Engine.open(dir, catalog!, name, {
      durability: options.durability,
      fence: () => claimed.check(mine),
      ...(takeover ? { takeoverEpoch: mine } : {}),
      ...(options.testing
        ? {
            testingPause: (point: StallPoint) => {
              if (stallAt?.point !== point) return;
              const { ms } = stallAt;
              stallAt = undefined;
              blockThread(ms);
            },
          }
        : {}),
      ...(options.compactThresholdBytes !== undefined ? { compactThresholdBytes: options.compactThresholdBytes } : {}),
      ...(options.historyBytes !== undefined ? { historyBytes: options.historyBytes } : {}),
      ...(options.crashAtCompactionPoint ? { atCompactionPoint: crashAt(options.crashAtCompactionPoint, () => engine?.halt()) } : {}),
      headroom: async () => {
        const { quota, usage } = await navigator.storage.estimate();
        return quota === undefined || usage === undefined ? undefined : quota - usage;
      },
      onBackgroundError: (error) => console.error('walden: background work failed', error),
      // Found after the open; the row is gone, so opening again recovers from the previous generation.
      onSnapshotDamaged: (error, damage) => {
        console.error(`walden: ${error.message}`);
        damageFound.push(damage);
        if (role === 'leader') void stepDown(true);
      },
    });
  }

  /** Another worker leads now (the lock was stolen, or a newer epoch was heard): stop at once. */
  function depose(): Promise<void> {
    if (role === 'leader' && !lockLost) stats.deposed++;
    lockLost = true;
    return stepDown(true);
  }

  /** Stop leading: finish, release the files and the lock; queue again unless told not to. */
  async function stepDown(requeue: boolean): Promise<void> {
    if (role !== 'leader') return;
    role = 'follower';
    stopBeating();
    const current = engine;
    const held = lock;
    const claimed = fence;
    const mine = epoch;
    engine = undefined;
    lock = undefined;
    fence = undefined;
    // - Files closed first, then the fence says so, then the lock goes: whoever leads next may
    //   then continue in the last segment, since this worker writes nothing more.
    const clean = await current?.close().then(() => true, () => false);
    try {
      if (clean) claimed?.release(mine);
    } catch {
      // The next leader then starts a segment of its own: only a little more to read.
    }
    claimed?.close();
    held?.release();
    leaderReady = false;
    tellPage();
    if (requeue) queueForLock();
  }

  function fail(error: unknown): void {
    const storeError = error instanceof StoreError ? error : new StoreError('STORE_IO_ERROR', `walden: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    if (onOpenFailed) {
      onOpenFailed(storeError);
      return;
    }
    broken = storeError;
    forwarder?.failAll(storeError);
  }

  function startBeating(): void {
    stopBeating();
    lastBeat = performance.now();
    beatTimer = setInterval(() => {
      const now = performance.now();
      if (now - lastBeat > STALL_CHECK_MS) void verifyLeadership();
      lastBeat = now;
      announce(engine !== undefined);
      if (!pageAway && lastBeat - pageSeenAt > PAGE_SILENT_MS) void handOverIfWanted();
      // Hidden (a background tab, soon throttled or frozen) while another tab is visible: hand over to it.
      if (!pageAway && !pageVisible && now - pageHiddenAt > HIDDEN_GRACE_MS && now - visibleFollowerSeenAt < FOLLOWER_SILENT_MS) {
        pageAway = true;
        stats.handovers++;
        void stepDown(false);
      }
    }, HEARTBEAT_MS);
  }

  function stopBeating(): void {
    if (beatTimer !== undefined) clearInterval(beatTimer);
    beatTimer = undefined;
  }

  /**
   * After a stall (this thread was blocked or frozen) a follower may have stolen the lock: read
   * the epoch from IndexedDB, and step down if a newer leader exists. Commits wait for it.
   */
  function verifyLeadership(): Promise<void> {
    verifying ??= (async () => {
      try {
        if (lockLost || (catalog && (await catalog.epoch(name)) > epoch)) await depose();
      } finally {
        verifying = undefined;
      }
    })();
    return verifying;
  }

  /** The page went quiet (frozen or throttled hard): let a waiting tab lead instead. */
  async function handOverIfWanted(): Promise<void> {
    if (role !== 'leader' || !engine || !(await othersWaiting(name))) return;
    pageAway = true;
    await stepDown(false);
  }

  /** Followers: say so (every second), and steal the lock from a leader that stopped beating. */
  function watchLeader(): void {
    if (role !== 'leader' && !closed && watchTicks++ % 2 === 0) post({ t: 'follower', from: self, visible: pageVisible });
    if (role === 'leader' || closed || broken || leaderSeenAt === 0) return;
    const silent = performance.now() - leaderSeenAt;
    if (silent > (leaderReady ? LEADER_SILENT_MS : OPENING_SILENT_MS) + stealJitter) {
      leaderSeenAt = 0;
      void steal().catch(fail);
    }
  }

  function onMessage(message: TabMessage): void {
    switch (message.t) {
      case 'leader': {
        if (message.id === self || message.epoch < knownEpoch) return;
        // A newer leader exists: this one is stale and must not append another record.
        if (role === 'leader' && message.epoch > epoch) depose();
        knownEpoch = message.epoch;
        sawLeader = true;
        leaderSeenAt = performance.now();
        leaderReady = message.ready;
        if (role !== 'leader') {
          forwarder?.setLeader(message.ready ? message.id : undefined, message.epoch);
          if (message.ready) onReady?.();
        }
        return;
      }
      case 'hello':
        followerSeenAt = performance.now();
        if (leading()) announce(true);
        return;
      case 'follower':
        followerSeenAt = performance.now();
        if (message.visible) visibleFollowerSeenAt = followerSeenAt;
        return;
      case 'req':
        followerSeenAt = performance.now();
        if (message.to !== self || !leading()) return; // the sender will try the next leader
        serve(message.method, message.args, message.tag).then(
          (value) => {
            if (message.method === 'commit' && crashBeforeAnswer > 0 && --crashBeforeAnswer === 0) {
              engine?.halt();
              postToPage({ waldenTestingCrash: 'applied-not-answered' });
              return;
            }
            post({ t: 'res', to: message.from, id: message.id, epoch, ok: true, value });
          },
          (error: unknown) => {
            if (!(error instanceof NotLeader)) post({ t: 'res', to: message.from, id: message.id, epoch, ok: false, error: toWire(error) });
          },
        );
        return;
      case 'res':
        forwarder?.receive(message);
        return;
      case 'frame':
        if (role !== 'leader') ring.add(message.epoch, message.changes);
        return;
    }
  }

  /**
   * Run a call on this worker's engine (it leads).
   *
   * @throws NotLeader when it stopped leading before or during the call (the caller sends it on).
   */
  async function serve(method: ForwardedMethod, args: unknown[], tag?: RequestTag): Promise<unknown> {
    const current = leading();
    if (!current) throw new NotLeader();
    try {
      return await dispatch(current, method, args, commitHere, tag);
    } catch (error) {
      throw notLeaderIfReplaced(error);
    }
  }

  /** Commit on this worker's engine, after making sure no newer leader exists; then send the frame. */
  async function commitHere(current: Engine, writes: EncodedOp[][], tag?: RequestTag): Promise<number[]> {
    // This thread was stalled (or frozen): a follower may have stolen the lock meanwhile.
    if (verifying || performance.now() - lastBeat > STALL_CHECK_MS) await verifyLeadership();
    if (!leading()) {
      stats.fencedCommits++;
      throw new NotLeader();
    }
    return sendFrame(writes, await current.commit(writes, tag));
  }

  /** Broadcast the records just committed, while any follower listens (a follower that missed frames resyncs). */
  function sendFrame(writes: EncodedOp[][], seqs: number[]): number[] {
    const last = seqs[seqs.length - 1] ?? 0;
    if (last > lastFramed) {
      lastFramed = last;
      // After frames were skipped, the next one starts a new run in each follower (a gap): fine.
      if (performance.now() - followerSeenAt < FOLLOWER_SILENT_MS) post({ t: 'frame', epoch, changes: writes.map((ops, i) => ({ seq: seqs[i]!, ops })) });
    }
    return seqs;
  }

  /** This worker's engine, when it leads and nothing (a stall check, a step-down) stands in the way of serving directly. */
  function fastPath(): Engine | undefined {
    return closed || broken || verifying || performance.now() - lastBeat > STALL_CHECK_MS ? undefined : leading();
  }

  /**
   * What a call that failed on this worker's engine means: {@link NotLeader} (send it to the
   * new leader) when this worker was replaced before or during the call, else the error itself.
   */
  function notLeaderIfReplaced(error: unknown): unknown {
    if (error instanceof FencedOut) {
      stats.fencedCommits++;
      void depose();
      return new NotLeader();
    }
    if (!leading() && error instanceof StoreError && error.code === 'STORE_CLOSED' && !closed) return new NotLeader();
    return error;
  }

  /**
   * The leader's own page's commit, without the forwarding machinery. It is tagged, so that if
   * this worker turns out to have been replaced mid-commit (it was frozen), the new leader
   * applies it exactly once: its ledger knows the tag if the records made it before the seal.
   */
  async function commitLocally(current: Engine, writes: EncodedOp[][]): Promise<number[]> {
    const tag = forwarder!.nextTag();
    try {
      return sendFrame(writes, await current.commit(writes, tag));
    } catch (error) {
      if (!(notLeaderIfReplaced(error) instanceof NotLeader)) throw error;
      return commitRouted(writes, tag);
    }
  }

  /** A commit from this worker's page: here when leading, else through the leader; keeps its tag across leaders. */
  async function commitRouted(writes: EncodedOp[][], tag?: RequestTag): Promise<number[]> {
    for (;;) {
      checkUsable();
      if (!leading()) return forwarder!.commit(writes, tag);
      const mine = tag ?? forwarder!.nextTag();
      try {
        return (await serve('commit', [writes], mine)) as number[];
      } catch (error) {
        if (!(error instanceof NotLeader)) throw error;
        tag = mine;
      }
    }
  }

  /** A call from this worker's page: run here when leading, else forward; retried if leadership moves mid-call. */
  async function route<T>(method: ForwardedMethod, args: unknown[]): Promise<T> {
    for (;;) {
      checkUsable();
      if (method === 'commit') return commitRouted(args[0] as EncodedOp[][]) as Promise<T>;
      const current = leading();
      if (!current) {
        if (method === 'readChanges') {
          const [since, range, max, waitMs] = args as [number, ScanRange, number, number];
          const local = await ring.read(since, range, max, waitMs);
          if (local.kind === 'changes') return local as T;
        }
        return forwarder!.call<T>(method as Exclude<ForwardedMethod, 'commit'>, args);
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
    promise.then(
      () => inflight.delete(promise),
      () => inflight.delete(promise),
    );
    return promise;
  }

  return {
    async open(storeName: string, options: EngineOpenOptions): Promise<StoreInfo> {
      if (openOptions) throw new TypeError('this worker already serves a store: give each openStore or importStore its own worker');
      name = storeName;
      openOptions = options;
      channel = new BroadcastChannel(lockName(name));
      channel.onmessage = (event: MessageEvent<TabMessage>) => onMessage(event.data);
      forwarder = new Forwarder(self, post, LEDGER_WINDOW);
      watchTimer = setInterval(watchLeader, HEARTBEAT_MS * 2);
      const ready = new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onOpenFailed = reject;
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const held = await acquireLock(name, 'now');
        joined = true;
        if (held) void promote(held);
        else {
          post({ t: 'hello', from: self });
          queueForLock();
          tellPage();
        }
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
      const current = fastPath();
      return current ? commitLocally(current, writes) : track(route<number[]>('commit', [writes]));
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
    async importArtifact(storeName: string, artifact: Blob, options: { replace: boolean; expectedManifest?: string }): Promise<StoreInfo> {
      if (openOptions) throw new TypeError('this worker already serves a store: give each openStore or importStore its own worker');
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
      return { ...info, recovery, role, epoch: knownEpoch, failovers: stats.failovers, fencedCommits: stats.fencedCommits, deposed: stats.deposed, handovers: stats.handovers, frameGaps: ring.gaps };
    },
    testingStall(ms: number, at: StallPoint = 'now') {
      if (!openOptions?.testing) throw new StoreError('STORE_UNSUPPORTED', 'testingStall needs walden/testing');
      if (at === 'now') blockThread(ms);
      else stallAt = { point: at, ms };
    },
    testingCrashBeforeAnswer(commits: number) {
      if (!openOptions?.testing) throw new StoreError('STORE_UNSUPPORTED', 'testingCrashBeforeAnswer needs walden/testing');
      crashBeforeAnswer = commits;
    },
    signal(message: PageSignal) {
      if ('waldenAlive' in message) {
        pageSeenAt = performance.now();
        const visible = message.visible ?? true;
        const wasVisible = pageVisible;
        if (visible !== pageVisible) {
          pageVisible = visible;
          if (!visible) pageHiddenAt = pageSeenAt;
          // A follower hidden now steps out of the queue; one visible again gets back in it.
          if (!visible && role !== 'leader') {
            queued?.abort();
            queued = undefined;
          }
          if (role !== 'leader' && !closed) post({ t: 'follower', from: self, visible });
        }
        if (pageAway && pageVisible) {
          pageAway = false;
          queueForLock();
        } else if (visible && !wasVisible) queueForLock();
      } else {
        // pagehide: hand over at once; the tab is going away (or into the back/forward cache).
        pageAway = true;
        void stepDown(false);
      }
    },
    async close() {
      if (closed) return;
      await Promise.allSettled([...inflight]);
      closed = true;
      clearInterval(watchTimer);
      queued?.abort();
      queued = undefined;
      if (role === 'leader') {
        await stepDown(false);
      }
      forwarder?.failAll(closedError(name));
      ring.clear();
      channel?.close();
      catalog?.close();
      catalog = undefined;
    },
  };
}
