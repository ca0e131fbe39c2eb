/**
 * A follower's side of forwarded calls: each gets an id, waits for the leader's answer, and is
 * sent again to every new leader until answered. Commits carry a {@link RequestTag} so that a
 * commit the old leader applied but could not answer is not applied twice (see `ledger.ts`).
 * Commits are sent in order, at most `window` at a time (the leader's ledger remembers that many
 * per client); groups waiting behind them are merged into one request.
 */
import { StoreError } from '../errors.js';
import type { EncodedOp, RequestTag } from '../protocol.js';
import { fromWire, type ForwardedMethod, type RequestMessage, type ResponseMessage } from './messages.js';

/** A forwarded call waiting for its answer. */
export interface Pending {
  method: ForwardedMethod;
  args: unknown[];
  tag?: RequestTag;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface QueuedCommit {
  writes: EncodedOp[][];
  /** Set when the commit already ran, tagged, on a leader that was replaced: it keeps its tag, and is sent alone. */
  tag?: RequestTag;
  resolve: (seqs: number[]) => void;
  reject: (error: unknown) => void;
}

/** Forwards calls to whichever worker leads; knows nothing of locks or engines. */
export class Forwarder {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #nextRequest = 1;
  #leader: string | undefined;
  #leaderEpoch = 0;
  #queued: QueuedCommit[] = [];
  #commitsInFlight = 0;

  /**
   * @param self This worker's client id (the `from` of its requests, the `client` of its tags).
   * @param post Send a message to the channel.
   * @param window Commits in flight at most: the requests per client the leader's ledger remembers.
   */
  constructor(
    readonly self: string,
    readonly post: (message: RequestMessage) => void,
    readonly window: number,
  ) {}

  /** The leader calls go to; undefined while there is none. */
  get leader(): string | undefined {
    return this.#leader;
  }

  /** Calls not yet answered. */
  get inFlight(): number {
    return this.#pending.size + this.#queued.length;
  }

  /**
   * A (new) leader is ready: send it every unanswered call, in the order they were made.
   * `undefined` while there is none (calls wait). The same worker leading a new epoch is a new leader.
   */
  setLeader(id: string | undefined, epoch = 0): void {
    if (id === this.#leader && epoch === this.#leaderEpoch) return;
    this.#leader = id;
    this.#leaderEpoch = epoch;
    if (id === undefined) return;
    for (const [requestId, pending] of this.#pending) this.#send(requestId, pending);
  }

  /** Forward a read or control call. */
  call<T>(method: Exclude<ForwardedMethod, 'commit'>, args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#start({ method, args, resolve: resolve as (v: unknown) => void, reject }));
  }

  /**
   * Forward a commit group; resolves with its seqs once the leader has made it durable. A `tag`
   * from {@link Forwarder.nextTag} says the group may already have been applied under it (by
   * this worker while it led): the leader's ledger then answers with the first seqs.
   */
  commit(writes: EncodedOp[][], tag?: RequestTag): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ writes, resolve, reject, ...(tag ? { tag } : {}) });
      this.#pump();
    });
  }

  /** A tag for a commit this worker runs itself while it leads, so that it can be sent on, applied once, if leadership moves mid-commit. */
  nextTag(): RequestTag {
    return { client: this.self, n: this.#nextRequest++ };
  }

  /** An answer from the leader (answers to someone else, or already answered, are ignored). */
  receive(message: ResponseMessage): void {
    if (message.to !== this.self) return;
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(fromWire(message.error));
  }

  /**
   * Take every unanswered call back, to run them here (this worker now leads), in order. Commits
   * never sent have no tag: no leader has seen them.
   */
  drain(): Pending[] {
    const calls: Pending[] = [...this.#pending.values()];
    this.#pending.clear();
    for (const queued of this.#queued) calls.push({ method: 'commit', args: [queued.writes], ...(queued.tag ? { tag: queued.tag } : {}), resolve: queued.resolve as (value: unknown) => void, reject: queued.reject });
    this.#queued = [];
    this.#leader = undefined;
    return calls;
  }

  /** Put a drained call back (this worker stopped leading before it ran), keeping its tag. */
  restore(call: Pending): void {
    this.#start(call);
  }

  /** Fail every call (the store is closing or broken). */
  failAll(error: StoreError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    for (const queued of this.#queued) queued.reject(error);
    this.#queued = [];
  }

  /** Send queued commits, merged, while fewer than the ledger window are in flight. */
  #pump(): void {
    while (this.#queued.length > 0 && this.#commitsInFlight < this.window) {
      // Untagged groups waiting together go as one request; a tagged one goes alone, under its tag.
      const tagged = this.#queued.findIndex((g) => g.tag !== undefined);
      const take = tagged === 0 ? 1 : tagged < 0 ? this.#queued.length : tagged;
      const groups = this.#queued.splice(0, take);
      const writes = groups.flatMap((g) => g.writes);
      this.#commitsInFlight++;
      const tag = groups[0]!.tag ?? this.nextTag();
      new Promise<unknown>((resolve, reject) => this.#start({ method: 'commit', args: [writes], tag, resolve, reject }))
        .then(
          (value) => {
            const seqs = value as number[];
            let at = 0;
            for (const g of groups) {
              g.resolve(seqs.slice(at, at + g.writes.length));
              at += g.writes.length;
            }
          },
          (error: unknown) => groups.forEach((g) => g.reject(error)),
        )
        .finally(() => {
          this.#commitsInFlight--;
          this.#pump();
        });
    }
  }

  #start(pending: Pending): void {
    const id = this.#nextId++;
    this.#pending.set(id, pending);
    if (this.#leader !== undefined) this.#send(id, pending);
  }

  #send(id: number, pending: Pending): void {
    this.post({ t: 'req', to: this.#leader!, from: this.self, id, method: pending.method, args: pending.args, ...(pending.tag ? { tag: pending.tag } : {}) });
  }
}
