/**
 * The hot path between the page and its worker: `get` and `commit`, the calls an app makes most,
 * go as one small message each way — `{ waldenHot: id, method, args }`, answered by
 * `{ waldenHot: id, value }` or `{ waldenHot: id, thrown }` — instead of Comlink's generic proxy
 * messages (a round trip costs about a third of Comlink's JavaScript: docs/performance.md).
 * They travel on the worker's own port, next to Comlink's, so every call still reaches the
 * worker in the order the page made it (a read sees the writes sent before it). Every other call
 * stays on Comlink. Errors cross as Comlink's `throw` handler writes them (see
 * `installErrorTransfer`), so a StoreError keeps its code.
 */
import { transfer, transferHandlers } from 'comlink';

/** The calls that take the hot path. */
export type HotMethod = 'get' | 'commit';

interface HotRequest {
  waldenHot: number;
  method: HotMethod;
  args: unknown[];
}

type HotAnswer = { waldenHot: number; value: unknown } | { waldenHot: number; thrown: unknown };

/** Where the messages go: a Worker on the page, the worker's global scope inside it. */
interface Port {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

/** Buffers an answer transfers instead of copying, as {@link transferred} marked them. */
const transfers = new WeakMap<object, Transferable[]>();

/** `value`, marked to have `buffers` transferred when it is the answer to a call (hot path or Comlink). */
export function transferred<T extends object>(value: T, buffers: Transferable[]): T {
  transfers.set(value, buffers);
  return transfer(value, buffers);
}

function throwHandler() {
  return transferHandlers.get('throw')!;
}

/**
 * Worker: answer hot calls with `api`. Install it before Comlink's `expose`: the hot messages
 * stop here, and Comlink never sees them.
 */
export function serveHotPath(port: Port, api: { [M in HotMethod]: (...args: never[]) => Promise<unknown> }): void {
  port.addEventListener('message', (event) => {
    const request = event.data as Partial<HotRequest> | null;
    if (typeof request?.waldenHot !== 'number') return;
    event.stopImmediatePropagation();
    const { waldenHot, method, args } = request as HotRequest;
    const call = api[method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    void (async () => {
      try {
        if (!call) throw new TypeError(`no hot call ${String(method)}`);
        const value = await call.apply(api, args);
        const answer: HotAnswer = { waldenHot, value };
        port.postMessage(answer, (value !== null && typeof value === 'object' && transfers.get(value)) || []);
      } catch (error) {
        const [thrown, buffers] = throwHandler().serialize({ value: error } as never);
        port.postMessage({ waldenHot, thrown } satisfies HotAnswer, buffers);
      }
    })();
  });
}

/** Page: the calling end of the hot path to `port` (the store's worker). */
export class HotPath {
  #next = 0;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  readonly #listener = (event: MessageEvent) => {
    const answer = event.data as Partial<HotAnswer> | null;
    if (typeof answer?.waldenHot !== 'number') return;
    const pending = this.#pending.get(answer.waldenHot);
    if (!pending) return;
    this.#pending.delete(answer.waldenHot);
    if ('thrown' in answer) {
      try {
        // The handler rebuilds the error and throws it.
        throwHandler().deserialize(answer.thrown);
      } catch (error) {
        pending.reject(error);
      }
    } else pending.resolve((answer as { value: unknown }).value);
  };

  /** @param port The worker. */
  constructor(readonly port: Port) {
    port.addEventListener('message', this.#listener);
  }

  /** Call `method` in the worker with `args` (copied by structured clone). */
  call<T>(method: HotMethod, args: unknown[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = ++this.#next;
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        this.port.postMessage({ waldenHot: id, method, args } satisfies HotRequest, []);
      } catch (error) {
        // An argument structured clone refuses: nothing was sent.
        this.#pending.delete(id);
        reject(error);
      }
    });
  }

  /** Stop listening (calls still waiting never settle, as Comlink's do when the worker is gone). */
  close(): void {
    this.port.removeEventListener('message', this.#listener);
  }
}
