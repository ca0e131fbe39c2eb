/**
 * Who serves a store among its tabs' workers, as seen from one worker: the election (the Web
 * Lock), liveness (heartbeats, stealing from a silent leader), fencing (the epoch in the fence
 * file and the catalog) and handing over when this worker's page goes hidden, quiet or away.
 *
 * - Election: the lock. A follower queues for it; when the leader's tab closes or crashes the
 *   browser releases it, the next follower gets it, starts a new epoch, recovers and serves.
 * - Liveness: the leader beats every {@link HEARTBEAT_MS}; a follower that hears nothing for
 *   {@link LEADER_SILENT_MS} steals the lock. A leader whose page stops pinging it (the tab is
 *   frozen) hands over when another tab is waiting; a hidden one hands over to a visible tab;
 *   `pagehide` hands over at once.
 * - Fencing: a new leader claims the fence file before it recovers; a leader checks the fence
 *   after each flush and before it serves, so once replaced it acknowledges nothing more. A
 *   leader that lost the lock, or hears a higher epoch, stops at once.
 *
 * What a leader serves, and how calls reach it, is the host's job ({@link LeadershipEvents}).
 */
import type { Engine } from '../engine/engine.js';
import { Fence, FencedOut } from '../engine/fence.js';
import type { Directory, FileLike } from '../engine/ports.js';
import type { IDBPDatabase } from 'idb';
import { IdbCatalog, openCatalogDb, type CatalogSchema } from '../platform/catalog.js';
import { isSyncHandleRefusal, openBackendDirectory, openStoreDirectory } from '../platform/backend.js';
import type { BackendChoice, PageSignal, TabRole } from '../protocol.js';
import { acquireLock, othersWaiting, type HeldLock } from '../tabs/locks.js';
import { HEARTBEAT_MS, LEADER_SILENT_MS, OPENING_SILENT_MS, type TabMessage } from '../tabs/messages.js';

/** A leader whose page has not pinged it for this long hands over, if another tab waits. */
export const PAGE_SILENT_MS = 4_000;
/** A leader whose page has been hidden this long hands over to a visible tab (switching tabs briefly does not). */
export const HIDDEN_GRACE_MS = 1_500;
/** A leader checks the epoch in IndexedDB before serving when its heartbeat is this late. */
const STALL_CHECK_MS = 1_000;
/** A leader sends frames while it has heard a follower within this long (followers say so every second). */
const FOLLOWER_SILENT_MS = 3_000;

/** What leadership tells the host, and asks of it. */
export interface LeadershipEvents {
  /** Send a message to the store's other workers. */
  post(message: TabMessage): void;
  /** This worker's role or the epoch it knows changed: tell the page. */
  roleChanged(role: TabRole, epoch: number): void;
  /** Open the engine on the claimed files (`takeover`: continue the log in a segment of this leader's own). */
  openEngine(dir: Directory, catalog: IdbCatalog, fence: Fence, epoch: number, takeover: boolean): Promise<Engine>;
  /** This worker won the lock and is about to open the files: forget the old leader's frames and address. */
  elected(): void;
  /** This worker's engine is open; `false` stops here, before anything is served (a test's crash). */
  opened?(engine: Engine, takeover: boolean): boolean;
  /** This worker leads and its engine is open: serve. */
  leading(engine: Engine): void;
  /** Another worker leads (`id` once it serves, undefined while it opens). */
  leaderHeard(id: string | undefined, epoch: number): void;
  /** Leadership failed (the lock or the files could not be had): nothing can be served. */
  failed(error: unknown): void;
}

/** Counters for `info()`. */
export interface LeadershipStats {
  failovers: number;
  steals: number;
  deposed: number;
  handovers: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A User Timing mark `walden:<step>` for each step of taking the files over (lock, catalog,
 * epoch, fence, engine): where an open's time goes, readable in the worker's performance
 * timeline (`npm run bench` reads it; so can DevTools). Only the latest of each is kept, so a
 * worker that takes over again and again does not pile them up.
 */
function markOpenStep(step: string): void {
  performance.clearMarks?.(`walden:${step}`);
  performance.mark?.(`walden:${step}`);
}

/** Whether an open failed only because another context still holds a file. */
function heldElsewhere(error: unknown): boolean {
  const e = error as { name?: string; cause?: { name?: string } } | null;
  return e?.name === 'NoModificationAllowedError' || e?.cause?.name === 'NoModificationAllowedError';
}

/** Whether `fence`'s claim is durable (false: another writer changed the fence first; read it again). */
async function claimHeld(fence: Fence): Promise<boolean> {
  try {
    await fence.settled();
    return true;
  } catch (error) {
    if (error instanceof FencedOut) return false;
    throw error;
  }
}

/** A directory whose opened files can all be closed at once. */
interface TrackedFiles {
  dir: Directory;
  closeAll(): void;
}

/** A directory that remembers what it opened, to close it all if opening the engine fails. */
function tracked(dir: Directory): TrackedFiles {
  const opened: FileLike[] = [];
  return {
    dir: {
      ...(dir.backend ? { backend: dir.backend } : {}),
      ...(dir.settled ? { settled: () => dir.settled!() } : {}),
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

/** One worker's part in electing the store's leader; create it when the store opens, {@link join} it, {@link close} it. */
export class Leadership {
  /** This worker's id on the channel. */
  readonly id = crypto.randomUUID();
  readonly stats: LeadershipStats = { failovers: 0, steals: 0, deposed: 0, handovers: 0 };
  readonly #store: string;
  readonly #events: LeadershipEvents;
  readonly #backend: BackendChoice;
  #catalog: IdbCatalog | undefined;
  /** The catalog database, opening since this worker first asked for the lock (the two overlap). */
  #catalogDb: Promise<IDBPDatabase<CatalogSchema>> | undefined;

  #role: TabRole = 'follower';
  #engine: Engine | undefined;
  /** The fence of the files this worker leads (claimed with `#epoch`). */
  #fence: Fence | undefined;
  /** The epoch this worker leads at; 0 while it has none (a follower's is its last, or 0). */
  #epoch = 0;
  #lock: HeldLock | undefined;
  #lockLost = false;
  #queued: AbortController | undefined;
  /** Set while this worker steals the lock (its queued request, if any, was withdrawn). */
  #stealing = false;
  /** Set once {@link join} has tried for the lock: only then may the worker queue for it. */
  #joined = false;
  #stopped = false;
  #beatTimer: ReturnType<typeof setInterval> | undefined;
  readonly #watchTimer: ReturnType<typeof setInterval>;
  #lastBeat = 0;
  /** Set while this leader checks, after a stall, whether it was replaced: serving waits for it. */
  #verifying: Promise<void> | undefined;

  /** When a follower was last heard: frames are only worth sending while someone listens. */
  #followerSeenAt = Number.NEGATIVE_INFINITY;
  /** When a follower whose page is visible was last heard. */
  #visibleFollowerSeenAt = Number.NEGATIVE_INFINITY;
  #watchTicks = 0;

  // What this worker knows of the leader.
  #knownEpoch = 0;
  #leaderSeenAt = 0;
  #leaderReady = false;
  /** Whether another worker has led while this one was open (so leading now is a takeover). */
  #sawLeader = false;
  readonly #stealJitter = Math.random() * 1_000;

  #pageSeenAt = performance.now();
  /** Set when this worker handed over because its page went quiet, hidden or away: it queues again once its page is back and visible. */
  #pageAway = false;
  #pageVisible = true;
  #pageHiddenAt = 0;

  /**
   * @param store The store's name.
   * @param events What the host does when this worker's part changes.
   * @param backend Where the store's files live (`'auto'`: OPFS where sync handles work, else IndexedDB).
   */
  constructor(store: string, events: LeadershipEvents, backend: BackendChoice = 'auto') {
    this.#store = store;
    this.#backend = backend;
    this.#events = events;
    this.#watchTimer = setInterval(() => this.#watchLeader(), HEARTBEAT_MS * 2);
  }

  /** This worker's role. */
  get role(): TabRole {
    return this.#role;
  }

  /** The newest epoch this worker knows of (its own while it leads). */
  get epoch(): number {
    return this.#knownEpoch;
  }

  /** Whether a follower listens: frames are sent only then (one that missed frames resyncs). */
  get followersListening(): boolean {
    return performance.now() - this.#followerSeenAt < FOLLOWER_SILENT_MS;
  }

  /**
   * This worker's engine while it leads. A leader replaced while its thread did not run finds
   * a newer epoch in the fence (a few microseconds) and steps down before it serves anything.
   */
  leading(): Engine | undefined {
    if (this.#role !== 'leader' || !this.#engine || this.#lockLost) return undefined;
    if (this.#fence && this.#fence.epoch() > this.#epoch) {
      void this.depose();
      return undefined;
    }
    return this.#engine;
  }

  /** Whether this leader's thread was stalled (or a check is running): commit only after {@link verify}. */
  get stalled(): boolean {
    return this.#verifying !== undefined || performance.now() - this.#lastBeat > STALL_CHECK_MS;
  }

  /** Take the lock if it is free, else ask who leads and queue for it. */
  async join(): Promise<void> {
    const asked = acquireLock(this.#store, 'now');
    void this.#openCatalogDb();
    const held = await asked;
    this.#joined = true;
    if (held) void this.#promote(held);
    else {
      this.#events.post({ t: 'hello', from: this.id });
      this.#queueForLock();
      this.#tellPage();
    }
  }

  /** Stop trying to lead (the store is broken): no queueing, no stealing. */
  stop(): void {
    this.#stopped = true;
  }

  /** Handle a leadership message from another worker (`leader`, `hello`, `follower`); others only mark a follower as heard. */
  receive(message: TabMessage): void {
    switch (message.t) {
      case 'leader': {
        if (message.id === this.id || message.epoch < this.#knownEpoch) return;
        // A newer leader exists: this one is stale and must not append another record. Not while
        // this worker has no epoch of its own yet (0): what it hears then is the old leader's last
        // beats, which can arrive after the lock's grant. A thief is heard through `held.lost`.
        if (this.#role === 'leader' && this.#epoch > 0 && message.epoch > this.#epoch) void this.depose();
        this.#knownEpoch = message.epoch;
        this.#sawLeader = true;
        this.#leaderSeenAt = performance.now();
        this.#leaderReady = message.ready;
        if (this.#role !== 'leader') this.#events.leaderHeard(message.ready ? message.id : undefined, message.epoch);
        return;
      }
      case 'hello':
        this.#followerSeenAt = performance.now();
        if (this.leading()) this.#announce(true);
        return;
      case 'follower':
        this.#followerSeenAt = performance.now();
        if (message.visible) this.#visibleFollowerSeenAt = this.#followerSeenAt;
        return;
      case 'req':
        this.#followerSeenAt = performance.now();
        return;
      default:
        return;
    }
  }

  /** What the page says: it is alive (and whether it is visible), or it is going away. */
  signal(message: PageSignal): void {
    if ('waldenAlive' in message) {
      this.#pageSeenAt = performance.now();
      const visible = message.visible ?? true;
      const wasVisible = this.#pageVisible;
      if (visible !== this.#pageVisible) {
        this.#pageVisible = visible;
        if (!visible) this.#pageHiddenAt = this.#pageSeenAt;
        // A follower hidden now steps out of the queue; one visible again gets back in it.
        if (!visible && this.#role !== 'leader') this.#withdraw();
        if (this.#role !== 'leader' && !this.#stopped) this.#events.post({ t: 'follower', from: this.id, visible });
      }
      if (this.#pageAway && this.#pageVisible) {
        this.#pageAway = false;
        this.#queueForLock();
      } else if (visible && !wasVisible) this.#queueForLock();
    } else {
      // pagehide: hand over at once; the tab is going away (or into the back/forward cache).
      this.#pageAway = true;
      void this.stepDown(false);
    }
  }

  /**
   * After a stall (this thread was blocked or frozen) a follower may have stolen the lock: read
   * the epoch from IndexedDB, and step down if a newer leader exists.
   */
  verify(): Promise<void> {
    this.#verifying ??= (async () => {
      try {
        if (this.#lockLost || (this.#catalog && (await this.#catalog.epoch(this.#store)) > this.#epoch)) await this.depose();
      } finally {
        this.#verifying = undefined;
      }
    })();
    return this.#verifying;
  }

  /** Another worker leads now (the lock was stolen, a newer epoch was heard, the fence moved): stop at once. */
  depose(): Promise<void> {
    if (this.#role === 'leader' && !this.#lockLost) this.stats.deposed++;
    this.#lockLost = true;
    return this.stepDown(true);
  }

  /**
   * Stop leading: finish, release the files and the lock; queue again unless told not to. With
   * `compact`, a long log is compacted first (see {@link Engine.close}).
   */
  async stepDown(requeue: boolean, compact = false): Promise<void> {
    if (this.#role !== 'leader') return;
    this.#role = 'follower';
    this.#stopBeating();
    const current = this.#engine;
    const held = this.#lock;
    const claimed = this.#fence;
    const mine = this.#epoch;
    this.#engine = undefined;
    this.#lock = undefined;
    this.#fence = undefined;
    // - Files closed first, then the fence says so, then the lock goes: whoever leads next may
    //   then continue in the last segment, since this worker writes nothing more.
    const clean = await current?.close({ compact }).then(
      () => true,
      () => false,
    );
    try {
      if (clean) claimed?.release(mine);
      // Durable before the lock goes (IndexedDB), so the next leader reads it.
      await claimed?.settled();
    } catch {
      // The next leader then starts a segment of its own: only a little more to read.
    }
    claimed?.close();
    held?.release();
    this.#leaderReady = false;
    this.#tellPage();
    if (requeue) this.#queueForLock();
  }

  /**
   * Leave the election: stop timers, withdraw from the queue, step down if leading. When no other
   * tab uses the store, a long log is compacted first, so the next open is quick; when one does,
   * it takes over at once instead.
   */
  async close(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#watchTimer);
    this.#withdraw();
    if (this.#role === 'leader') await this.stepDown(false, !this.followersListening);
    this.#catalog?.close();
    this.#catalog = undefined;
    void this.#catalogDb?.then((db) => db.close(), () => {});
    this.#catalogDb = undefined;
  }

  /** The catalog database: opened once, from the first lock request on. */
  #openCatalogDb(): Promise<IDBPDatabase<CatalogSchema>> {
    if (!this.#catalogDb) {
      const opening = openCatalogDb();
      this.#catalogDb = opening;
      // A failure is the open's to report, when this worker leads; the next attempt opens anew.
      opening.catch(() => {
        if (this.#catalogDb === opening) this.#catalogDb = undefined;
      });
    }
    return this.#catalogDb;
  }

  #announce(ready: boolean): void {
    this.#events.post({ t: 'leader', id: this.id, epoch: this.#epoch, ready });
  }

  #tellPage(): void {
    this.#events.roleChanged(this.#role, this.#knownEpoch);
  }

  #withdraw(): void {
    this.#queued?.abort();
    this.#queued = undefined;
  }

  #queueForLock(): void {
    // A hidden tab does not queue: when the leader hands over, a visible tab takes over.
    if (!this.#joined || this.#stopped || this.#queued || this.#role === 'leader' || !this.#pageVisible) return;
    const controller = new AbortController();
    this.#queued = controller;
    void this.#openCatalogDb();
    acquireLock(this.#store, 'queue', controller.signal).then(
      (held) => {
        // Withdrawn meanwhile (a steal began, the page was hidden, the store closed), yet granted
        // in the same instant: not this request's to use. One way to leadership at a time.
        if (this.#queued !== controller) {
          held?.release();
          return;
        }
        this.#queued = undefined;
        if (held) void this.#promote(held);
      },
      (error: unknown) => this.#events.failed(error),
    );
  }

  async #steal(): Promise<void> {
    if (this.#role === 'leader' || this.#stealing) return;
    this.stats.steals++;
    this.#stealing = true;
    this.#withdraw();
    try {
      const held = await acquireLock(this.#store, 'steal');
      if (held) await this.#promote(held, true);
    } finally {
      this.#stealing = false;
    }
  }

  /**
   * This worker got the lock: new epoch, claim the fence, open the files, serve. With `stolen`
   * the old leader may still run: where files can be shared (`readwrite-unsafe`), the log goes
   * on in a segment of this leader's own; elsewhere the open waits until the old one lets go.
   */
  async #promote(held: HeldLock, stolen = false): Promise<void> {
    if (this.#stopped) {
      held.release();
      return;
    }
    markOpenStep('lock');
    this.#lock = held;
    this.#lockLost = false;
    this.#role = 'leader';
    // No epoch of its own until the catalog hands one out (see `receive`).
    this.#epoch = 0;
    // Whether this promotion still stands: once deposed, `held` is released and a later one may
    // run in this worker; this one then opens nothing more and changes nothing it shares.
    const ours = () => this.#lock === held && !this.#lockLost && !this.#stopped;
    // The leader heard before is gone: once this one steps down, only a leader heard after it may
    // be stolen from. (Kept, the old time made a worker that had just handed over find "the
    // leader" silent and steal the lock back from its own release, its page still frozen.)
    this.#leaderSeenAt = 0;
    void held.lost.then(() => {
      if (this.#lock === held) void this.depose();
    });
    // The directory handle holds no file open: get it while IndexedDB opens.
    let { backend, directory } = openStoreDirectory(this.#store, this.#backend);
    // The fence's handle opens while the catalog hands out the epoch (about 1.5 ms of an open):
    // opening reads and claims nothing, so the order below stays the protocol's.
    let early: Promise<{ files: TrackedFiles; fence: Promise<Fence> }> | undefined = directory.then((dir) => {
      const files = tracked(dir);
      const fence = Fence.open(files.dir);
      fence.catch(() => {});
      return { files, fence };
    });
    early.catch(() => {});
    const dropEarly = () => {
      void early?.then(({ files, fence }) => fence.finally(() => files.closeAll()), () => {}).catch(() => {});
      early = undefined;
    };
    try {
      const catalog = (this.#catalog ??= new IdbCatalog(await this.#openCatalogDb()));
      markOpenStep('catalog');
      const epoch = await catalog.nextEpoch(this.#store);
      if (!ours()) {
        dropEarly();
        return;
      }
      markOpenStep('epoch');
      this.#epoch = epoch;
      this.#knownEpoch = epoch;
      this.#startBeating();
      this.#announce(false);
      this.#events.elected();
      let engine: Engine;
      let takeover = stolen;
      for (let attempt = 0; ; attempt++) {
        if (!ours()) {
          dropEarly();
          return;
        }
        const opened = early ? await early : undefined;
        early = undefined;
        const files = opened?.files ?? tracked(await directory);
        try {
          // - The fence first: from here the old leader acknowledges nothing, so what this one
          //   reads below is everything that was ever acknowledged.
          const claimed = await (opened?.fence ?? Fence.open(files.dir));
          // A predecessor that did not let go cleanly (stolen from, crashed, frozen) may still
          // write into its last segment: then the log goes on in a segment of this leader's own.
          const prior = claimed.state();
          // Deposed while the fence opened: the claim is no longer this promotion's to make.
          if (!ours()) {
            files.closeAll();
            return;
          }
          claimed.claim(epoch);
          // On IndexedDB the claim holds only once its transaction says so: it is refused when the
          // predecessor's release landed after the read above. Then read the fence again.
          if (!(await claimHeld(claimed))) {
            files.closeAll();
            directory = openBackendDirectory(this.#store, await backend);
            continue;
          }
          takeover = stolen || !prior.released;
          markOpenStep('fence');
          engine = await this.#events.openEngine(files.dir, catalog, claimed, epoch, takeover);
          markOpenStep('engine');
          if (!ours()) {
            await engine.close().catch(() => {});
            files.closeAll();
            return;
          }
          this.#engine = engine;
          this.#fence = claimed;
          break;
        } catch (error) {
          files.closeAll();
          // Sync handles refused (WebKitGTK has the API and refuses it): the store lives in IndexedDB.
          if (this.#backend === 'auto' && (await backend) === 'opfs' && isSyncHandleRefusal(error)) {
            backend = Promise.resolve('indexeddb' as const);
            directory = openBackendDirectory(this.#store, 'indexeddb');
            continue;
          }
          // The old leader still holds a file (it is stalled, or its context is going away).
          if (!heldElsewhere(error)) throw error;
          await sleep(Math.min(25 * 2 ** attempt, 500));
        }
      }
      if (this.#events.opened?.(engine, takeover) === false) return;
      this.#announce(true);
      this.#tellPage();
      if (this.#sawLeader) this.stats.failovers++;
      this.#events.leading(engine);
    } catch (error) {
      dropEarly();
      // Deposed meanwhile: what failed was this promotion's, and another may run now.
      if (!ours()) {
        held.release();
        return;
      }
      this.#role = 'follower';
      this.#stopBeating();
      this.#engine = undefined;
      this.#lock = undefined;
      held.release();
      this.#events.failed(error);
    }
  }

  #startBeating(): void {
    this.#stopBeating();
    this.#lastBeat = performance.now();
    this.#beatTimer = setInterval(() => {
      const now = performance.now();
      if (now - this.#lastBeat > STALL_CHECK_MS) void this.verify();
      this.#lastBeat = now;
      this.#announce(this.#engine !== undefined);
      if (!this.#pageAway && this.#lastBeat - this.#pageSeenAt > PAGE_SILENT_MS) void this.#handOverIfWanted();
      // Hidden (a background tab, soon throttled or frozen) while another tab is visible: hand over to it.
      if (!this.#pageAway && !this.#pageVisible && now - this.#pageHiddenAt > HIDDEN_GRACE_MS && now - this.#visibleFollowerSeenAt < FOLLOWER_SILENT_MS) {
        this.#pageAway = true;
        this.stats.handovers++;
        void this.stepDown(false);
      }
    }, HEARTBEAT_MS);
  }

  #stopBeating(): void {
    if (this.#beatTimer !== undefined) clearInterval(this.#beatTimer);
    this.#beatTimer = undefined;
  }

  /** The page went quiet (frozen or throttled hard): let a waiting tab lead instead. */
  async #handOverIfWanted(): Promise<void> {
    if (this.#role !== 'leader' || !this.#engine || !(await othersWaiting(this.#store))) return;
    this.#pageAway = true;
    await this.stepDown(false);
  }

  /** Followers: say so (every second), and steal the lock from a leader that stopped beating. */
  #watchLeader(): void {
    if (this.#role === 'leader' || this.#stopped) return;
    if (this.#watchTicks++ % 2 === 0) this.#events.post({ t: 'follower', from: this.id, visible: this.#pageVisible });
    if (this.#leaderSeenAt === 0) return;
    const silent = performance.now() - this.#leaderSeenAt;
    if (silent > (this.#leaderReady ? LEADER_SILENT_MS : OPENING_SILENT_MS) + this.#stealJitter) {
      this.#leaderSeenAt = 0;
      this.#steal().catch((error: unknown) => this.#events.failed(error));
    }
  }
}
