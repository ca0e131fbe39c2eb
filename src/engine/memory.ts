/**
 * In-memory storage for the engine with fault injection: a `Directory` of files that keep what
 * was flushed apart from what was only written, so a test can crash at any step, tear any write
 * at any byte, and drop everything not flushed (power loss) before reopening.
 */
import type { Catalog, Directory, FileLike, SnapshotRow } from './ports.js';

/** Thrown by every operation once the simulated machine has crashed. */
export class SimulatedCrash extends Error {
  override name = 'SimulatedCrash';
}

/**
 * Counts I/O steps (write, truncate, flush, remove, catalog put/delete) and crashes at a chosen
 * one. A write at the crash step first writes `tearBytes` of its bytes.
 */
export class FaultPlan {
  /** Steps taken so far. */
  steps = 0;
  /** Whether the crash has happened. */
  crashed = false;
  /** For each step so far, the bytes it wrote (writes) or -1 (any other step). */
  readonly sizes: number[] = [];
  /**
   * @param crashAtStep The 0-based step that crashes (Infinity: never).
   * @param tearBytes How many bytes the crashing write gets through.
   */
  constructor(
    readonly crashAtStep = Number.POSITIVE_INFINITY,
    readonly tearBytes = 0,
  ) {}

  /**
   * Account for one step.
   *
   * @returns `'go'` to perform it, or the number of bytes to write before crashing.
   * @throws {@link SimulatedCrash} when already crashed, or at the crash step of a non-write.
   */
  step(isWrite: boolean, bytes = -1): 'go' | number {
    if (this.crashed) throw new SimulatedCrash('crashed');
    const step = this.steps++;
    this.sizes.push(isWrite ? bytes : -1);
    if (step < this.crashAtStep) return 'go';
    this.crashed = true;
    if (isWrite) return this.tearBytes;
    throw new SimulatedCrash(`crash at step ${step}`);
  }
}

class FileState {
  current: Uint8Array = new Uint8Array(0);
  durable: Uint8Array = new Uint8Array(0);
  /** Handles open on the file. */
  open = 0;
}

function resized(bytes: Uint8Array, size: number): Uint8Array {
  if (size === bytes.byteLength) return bytes;
  const next = new Uint8Array(size);
  next.set(bytes.subarray(0, Math.min(size, bytes.byteLength)));
  return next;
}

class MemoryFile implements FileLike {
  #closed = false;
  constructor(
    readonly state: FileState,
    readonly directory: MemoryDirectory,
  ) {}

  read(buffer: Uint8Array, { at }: { at: number }): number {
    this.#check();
    const available = Math.max(0, Math.min(buffer.byteLength, this.state.current.byteLength - at));
    buffer.set(this.state.current.subarray(at, at + available));
    return available;
  }

  write(buffer: Uint8Array, { at }: { at: number }): number {
    this.#check();
    const verdict = this.directory.faults.step(true, buffer.byteLength);
    const length = verdict === 'go' ? buffer.byteLength : Math.min(verdict, buffer.byteLength);
    if (this.directory.quotaBytes !== undefined && at + length > this.directory.quotaBytes && at + length > this.state.current.byteLength) {
      const error = new Error('simulated quota');
      error.name = 'QuotaExceededError';
      throw error;
    }
    if (at + length > this.state.current.byteLength) this.state.current = resized(this.state.current, at + length);
    this.state.current.set(buffer.subarray(0, length), at);
    if (verdict !== 'go') throw new SimulatedCrash(`crash during a ${buffer.byteLength}-byte write after ${length} bytes`);
    return length;
  }

  truncate(size: number): void {
    this.#check();
    this.directory.faults.step(false);
    this.state.current = resized(this.state.current, size);
  }

  getSize(): number {
    this.#check();
    return this.state.current.byteLength;
  }

  flush(): void {
    this.#check();
    this.directory.faults.step(false);
    this.state.durable = this.state.current.slice();
    this.directory.flushes++;
  }

  close(): void {
    if (!this.#closed) this.state.open = Math.max(0, this.state.open - 1);
    this.#closed = true;
  }

  #check(): void {
    if (this.#closed) throw new DOMException('The file was already closed', 'InvalidStateError');
    if (this.directory.faults.crashed) throw new SimulatedCrash('crashed');
  }
}

/**
 * A directory of in-memory files. Metadata operations (create, remove) take effect at once and
 * survive a crash; use {@link MemoryDirectory.afterCrash} to lose unflushed data.
 */
export class MemoryDirectory implements Directory {
  /**
   * @param options `sharedHandles`: a file may be open in several handles at once, as OPFS
   *   `readwrite-unsafe` handles may (the default is one handle per file, as `readwrite`).
   */
  constructor(readonly options: { sharedHandles?: boolean } = {}) {}

  /** The fault plan every file consults; replace it to start a new "boot". */
  faults = new FaultPlan();
  /** Writes beyond this many bytes per file fail with a QuotaExceededError. */
  quotaBytes: number | undefined;
  /** How many flushes happened, for tests of the flush discipline. */
  flushes = 0;
  readonly #files = new Map<string, FileState>();

  async list(): Promise<string[]> {
    return [...this.#files.keys()].sort();
  }

  async open(name: string, options: { create?: boolean } = {}): Promise<FileLike> {
    if (this.faults.crashed) throw new SimulatedCrash('crashed');
    let state = this.#files.get(name);
    if (!state) {
      if (!options.create) throw new DOMException(`${name} not found`, 'NotFoundError');
      state = new FileState();
      this.#files.set(name, state);
    }
    if (state.open > 0 && !this.options.sharedHandles) throw new DOMException(`${name} is locked`, 'NoModificationAllowedError');
    state.open++;
    return new MemoryFile(state, this);
  }

  async remove(name: string): Promise<void> {
    this.faults.step(false);
    const state = this.#files.get(name);
    if (state && state.open > 0) throw new DOMException(`${name} is locked`, 'NoModificationAllowedError');
    this.#files.delete(name);
  }

  /**
   * Simulate the reboot after a crash: every handle is released and, with `powerLoss`, every
   * file goes back to what was last flushed.
   */
  afterCrash({ powerLoss }: { powerLoss: boolean }): void {
    for (const state of this.#files.values()) {
      state.open = 0;
      if (powerLoss) state.current = state.durable.slice();
    }
    this.faults = new FaultPlan();
  }

  /** The current bytes of a file (a copy), for tests. */
  bytes(name: string): Uint8Array | undefined {
    return this.#files.get(name)?.current.slice();
  }

  /** The bytes of a file as last flushed (a copy), for tests. */
  durableBytes(name: string): Uint8Array | undefined {
    return this.#files.get(name)?.durable.slice();
  }

  /** Replace a file's bytes (both current and durable), for tests that damage files. */
  setBytes(name: string, bytes: Uint8Array): void {
    const state = this.#files.get(name) ?? new FileState();
    state.current = bytes.slice();
    state.durable = bytes.slice();
    this.#files.set(name, state);
  }
}

/** An in-memory {@link Catalog}; `put` and `delete` count as fault steps of `directory`. */
export class MemoryCatalog implements Catalog {
  readonly #rows = new Map<string, SnapshotRow>();
  /** Per store, the seq checkpoint streams have reached (what {@link Catalog.checkpointFloor} answers). */
  readonly floors = new Map<string, number>();
  /** @param directory Whose fault plan decides when the catalog "crashes". */
  constructor(readonly directory?: MemoryDirectory) {}

  async list(store: string): Promise<SnapshotRow[]> {
    return [...this.#rows.values()].filter((row) => row.store === store).sort((a, b) => a.seq - b.seq).map((row) => ({ ...row }));
  }

  async put(row: SnapshotRow): Promise<void> {
    this.directory?.faults.step(false);
    this.#rows.set(`${row.store}\u0000${row.seq}`, { ...row });
  }

  async delete(store: string, seq: number): Promise<void> {
    this.directory?.faults.step(false);
    this.#rows.delete(`${store}\u0000${seq}`);
  }

  async checkpointFloor(store: string): Promise<number | undefined> {
    return this.floors.get(store);
  }

  readonly #created = new Map<string, number>();

  async createdAt(store: string): Promise<number | undefined> {
    return this.#created.get(store);
  }

  async markCreated(store: string, createdAt: number): Promise<void> {
    this.directory?.faults.step(false);
    this.#created.set(store, createdAt);
  }

  /** Forget that `store` was created (as when IndexedDB is cleared), for tests. */
  forget(store: string): void {
    this.#created.delete(store);
    for (const key of [...this.#rows.keys()]) if (key.startsWith(`${store}\u0000`)) this.#rows.delete(key);
  }
}
