/**
 * Sync in the worker: only the leader's worker runs a {@link Syncer} (one per stream); the
 * others send their page's sync calls to it, and register their page's syncs again with every
 * new leader, so sync goes on after a failover. Options (credentials with them) stay in memory
 * in the workers; they are never written to the log, an artifact or the console.
 */
import { StoreError } from '../errors.js';
import type { Engine } from '../engine/engine.js';
import type { EncodedOp, SyncCall, SyncInfo, SyncOptions } from '../protocol.js';
import type { IdbCatalog } from '../platform/catalog.js';
import type { Syncer } from '../sync/syncer.js';

/** The checkpoint stream that pins the log sync still needs, per synced stream. */
export function syncCheckpointStream(stream: string): string {
  return `walden:sync:${stream}`;
}

/** What the sync host needs from the worker's host. */
export interface SyncHostDeps {
  store: string;
  /** This worker's engine when it leads. */
  leading(): Engine | undefined;
  /** The catalog of the engine that leads here. */
  catalog(): IdbCatalog | undefined;
  /** Commit on `engine` what `compute` returns at commit time, with the leader's checks and frames. */
  commitComputed(engine: Engine, compute: () => EncodedOp[][]): Promise<number[]>;
  /** Send a sync call to the leader. */
  forward(call: SyncCall): Promise<unknown>;
}

/** Check the options a page passed to `store.sync()`. @throws TypeError */
export function assertSyncOptions(options: unknown): asserts options is SyncOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('sync options must be an object');
  const o = options as Record<string, unknown>;
  const servers = Array.isArray(o.servers) ? o.servers : [o.servers];
  if (servers.length === 0 || !servers.every((s) => typeof s === 'string' && /^wss?:\/\//.test(s))) throw new TypeError('sync servers must be ws:// or wss:// URLs');
  if (typeof o.stream !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(o.stream)) throw new TypeError('sync stream must be a name of letters, digits, "_" and "-"');
  if (o.subjectPrefix !== undefined && (typeof o.subjectPrefix !== 'string' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(o.subjectPrefix))) throw new TypeError('sync subjectPrefix must be dot-separated tokens without wildcards');
  for (const k of ['user', 'pass', 'token'] as const) if (o[k] !== undefined && typeof o[k] !== 'string') throw new TypeError(`sync ${k} must be a string`);
  if (o.replicas !== undefined && !(Number.isInteger(o.replicas) && (o.replicas as number) >= 1 && (o.replicas as number) <= 5)) throw new TypeError('sync replicas must be an integer from 1 to 5');
  if (o.snapshotBucket !== undefined && (typeof o.snapshotBucket !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(o.snapshotBucket))) throw new TypeError('sync snapshotBucket must be a name of letters, digits, "_" and "-"');
  if (o.connectTimeoutMs !== undefined && !(typeof o.connectTimeoutMs === 'number' && o.connectTimeoutMs > 0)) throw new TypeError('sync connectTimeoutMs must be a positive number');
}

/** The syncs of one worker: its page's registrations, and the syncers it runs while it leads. */
export class SyncHost {
  readonly #deps: SyncHostDeps;
  /** What this worker's page asked for, by stream. */
  readonly #own = new Map<string, SyncOptions>();
  /** What runs here (this worker leads), by stream. */
  readonly #running = new Map<string, Promise<Syncer>>();

  constructor(deps: SyncHostDeps) {
    this.#deps = deps;
  }

  /** A sync call from this worker's page. */
  async call(call: SyncCall): Promise<unknown> {
    if (call.op === 'start') {
      assertSyncOptions(call.options);
      this.#own.set(call.options.stream, call.options);
    }
    if (call.op === 'close') this.#own.delete(call.stream);
    return this.#deps.leading() ? this.serve(call) : this.#deps.forward(call);
  }

  /** Run a sync call here (this worker leads): a start starts the stream's syncer if it is not running. */
  async serve(call: SyncCall): Promise<unknown> {
    const engine = this.#deps.leading();
    if (!engine) throw new StoreError('STORE_CLOSED', 'this worker no longer leads');
    if (call.op === 'start') {
      assertSyncOptions(call.options);
      return (await this.#ensure(engine, call.options)).info();
    }
    const running = this.#running.get(call.stream);
    if (!running) {
      if (call.op === 'close') return undefined;
      throw new StoreError('STORE_CLOSED', `sync of ${JSON.stringify(call.stream)} is not running`);
    }
    const syncer = await running;
    switch (call.op) {
      case 'info':
        return syncer.info();
      case 'watch':
        return syncer.watch(call.version, Math.min(call.waitMs, 30_000));
      case 'flush':
        return syncer.flush();
      case 'pulled':
        return syncer.pulled();
      case 'snapshot':
        return syncer.snapshot();
      case 'close':
        this.#running.delete(call.stream);
        return syncer.close();
    }
  }

  /** The syncer of `options.stream`, started if none runs (or the one that runs stopped). */
  async #ensure(engine: Engine, options: SyncOptions): Promise<Syncer> {
    const existing = this.#running.get(options.stream);
    if (existing) {
      const syncer = await existing.catch(() => undefined);
      if (syncer && syncer.state !== 'closed') return syncer;
    }
    const started = (async () => {
      // The NATS client and the artifact code load only when a page syncs.
      const [{ Syncer }, artifacts] = await Promise.all([import('../sync/syncer.js'), import('./sync-artifacts.js')]);
      return Syncer.start(engine, this.#port(engine, artifacts), options);
    })();
    this.#running.set(options.stream, started);
    started.catch(() => {
      if (this.#running.get(options.stream) === started) this.#running.delete(options.stream);
    });
    return started;
  }

  #port(engine: Engine, artifacts: typeof import('./sync-artifacts.js')) {
    const deps = this.#deps;
    return {
      commitComputed: (compute: () => EncodedOp[][]) => deps.commitComputed(engine, compute),
      async saveCheckpoint(stream: string, sequence: number, offsets: Record<string, number>) {
        const catalog = deps.catalog();
        if (!catalog) return;
        await catalog.putCheckpoint({ store: deps.store, stream: syncCheckpointStream(stream), sequence, watermark: 0, eventCount: 0, operatorStates: {}, sourceOffsets: offsets, metadata: {}, savedAt: Date.now() }, 1);
      },
      exportArtifact: () => artifacts.exportSyncArtifact(engine, deps.store),
      readArtifact: artifacts.readSyncArtifact,
      async loadCheckpoint(stream: string) {
        return (await deps.catalog()?.latestCheckpoint(deps.store, syncCheckpointStream(stream)))?.sourceOffsets;
      },
    };
  }

  /** This worker now leads: start its page's syncs. */
  leading(engine: Engine): void {
    for (const options of this.#own.values()) this.#ensure(engine, options).catch((error: unknown) => console.error('walden: sync did not start', (error as Error).message));
  }

  /** A new leader was heard: register this page's syncs with it. */
  leaderHeard(): void {
    if (this.#deps.leading()) return;
    for (const options of this.#own.values()) this.#deps.forward({ op: 'start', options }).catch(() => {});
  }

  /** This worker stops leading (or closes): stop what runs here; the next leader starts its own. */
  async stopAll(): Promise<void> {
    const running = [...this.#running.values()];
    this.#running.clear();
    await Promise.allSettled(running.map(async (started) => (await started).close()));
  }
}

export type { SyncInfo };
