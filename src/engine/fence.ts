/**
 * The leadership fence: the file `fence` in a store's directory holds the epoch of the leader
 * that owns the files. A leader that takes over writes its epoch there (see {@link Fence.claim}
 * for why only IndexedDB flushes it) before it reads the log; every leader reads it (a few microseconds through its sync handle) after each
 * flush and before it acknowledges anything, and before each step of a compaction. A leader
 * that finds a newer epoch was replaced while its thread did not run (a frozen or hung tab): it
 * acknowledges nothing more. A leader that closes its files cleanly marks the fence released;
 * a new leader that finds it not released (its predecessor crashed, froze or hung, and may
 * still write) continues the log in a segment of its own. The protocol is in docs/multi-tab.md.
 */
import { getUint64, setUint64, viewOf } from '../format/bytes.js';
import { FENCE_NAME } from '../format/names.js';
import type { Directory, FileLike } from './ports.js';

/** Thrown by {@link Fence.check} in a leader that was replaced; it never leaves the worker (the host sends the call to the new leader). */
export class FencedOut extends Error {
  override name = 'FencedOut';
}

/** What the fence says: the epoch of the leader that claimed the files last, and whether it let them go cleanly. */
export interface FenceState {
  epoch: number;
  /** The leader of `epoch` closed its files and released them (it writes nothing more). */
  released: boolean;
}

/** Fence layout: epoch u64, released u8 (1 once its leader let go of the files cleanly). */
const FENCE_BYTES = 9;

/** A store's fence file, open for the life of one leadership. */
export class Fence {
  readonly #buffer = new Uint8Array(FENCE_BYTES);

  private constructor(
    readonly file: FileLike,
    readonly dir: Directory,
  ) {}

  /** Open (creating) the fence file of the store in `dir`. */
  static async open(dir: Directory): Promise<Fence> {
    return new Fence(await dir.open(FENCE_NAME, { create: true }), dir);
  }

  /**
   * Resolves once what was written to the fence is durable: at once where `flush()` is durable
   * when it returns; on IndexedDB when its transaction completed, and rejects with
   * {@link FencedOut} when another leader wrote the fence in between.
   */
  async settled(): Promise<void> {
    await this.dir.settled?.();
  }

  /** What the fence holds (a new store's: epoch 0, released). */
  state(): FenceState {
    this.#buffer.fill(0);
    const read = this.file.read(this.#buffer, { at: 0 });
    const epoch = getUint64(viewOf(this.#buffer), 0);
    if (read < 8 || !Number.isFinite(epoch) || epoch === 0) return { epoch: 0, released: true };
    return { epoch, released: read >= FENCE_BYTES && this.#buffer[8] === 1 };
  }

  /** The epoch written last (0 for a new store). */
  epoch(): number {
    return this.state().epoch;
  }

  /**
   * Make `epoch` the owner, before the new leader reads anything else. On OPFS and `node:fs` the
   * write is all it takes: every handle reads the file through the operating system, which shows
   * a write to all at once, and the protocol needs the old leader to see the claim, not the disk
   * to keep it (a power loss ends every leader; the next open needs only the records' own
   * flushes). Not flushing keeps the open off the disk's queue: after a large write and a
   * reload, this flush waited 15–27 ms for the writeback of other data. Where `flush()` is what
   * sends a write to the other handles (IndexedDB: {@link Directory.settled}), it flushes.
   */
  claim(epoch: number): void {
    const bytes = new Uint8Array(FENCE_BYTES);
    setUint64(viewOf(bytes), 0, epoch);
    this.file.write(bytes, { at: 0 });
    if (this.dir.settled) this.file.flush();
  }

  /**
   * Say that the leader of `epoch`, still the owner, has closed its files: the next leader may
   * go on in the last segment. (A leader that crashed or froze never says so: the next one then
   * starts a segment of its own, since the old one may still write.)
   */
  release(epoch: number): void {
    if (this.epoch() !== epoch) return;
    this.file.write(Uint8Array.of(1), { at: 8 });
    this.file.flush();
  }

  /** @throws {@link FencedOut} when a leader newer than `epoch` has claimed the files. */
  check(epoch: number): void {
    const owner = this.epoch();
    if (owner > epoch) throw new FencedOut(`leader of epoch ${epoch} was replaced by epoch ${owner}`);
  }

  close(): void {
    try {
      this.file.close();
    } catch {
      // already closed
    }
  }
}
