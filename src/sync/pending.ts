/**
 * The keys this device wrote that the stream has not brought back yet. Their writes will land in
 * the stream after every record this device pulls now, so by the one rule of sync (per key, the
 * write later in the stream wins) a pulled record must not overwrite them.
 */
export class PendingWrites {
  /** key → the last local seq that wrote it. */
  readonly #last = new Map<string, number>();
  /** Local seqs in order with their keys, to confirm from the oldest. */
  readonly #queue: { seq: number; keys: string[] }[] = [];

  /** Local record `seq` wrote `keys`. */
  note(seq: number, keys: readonly string[]): void {
    if (keys.length === 0) return;
    for (const key of keys) this.#last.set(key, seq);
    this.#queue.push({ seq, keys: [...keys] });
  }

  /** The stream brought back this device's records up to local seq `seq`. */
  confirm(seq: number): void {
    while (this.#queue.length > 0 && this.#queue[0]!.seq <= seq) {
      for (const key of this.#queue.shift()!.keys) if ((this.#last.get(key) ?? Infinity) <= seq) this.#last.delete(key);
    }
  }

  /** Whether `key` has a local write the stream has not brought back. */
  has(key: string): boolean {
    return this.#last.has(key);
  }

  /** Number of keys waiting. */
  get size(): number {
    return this.#last.size;
  }
}
