import { transferHandlers } from 'comlink';

/** Every stable error code a {@link StoreError} can carry. Codes never change within a major version. */
export type StoreErrorCode =
  | 'STORE_CORRUPTION'
  | 'STORE_LOCKED'
  | 'STORE_CLOSED'
  | 'STORE_QUOTA_EXCEEDED'
  | 'STORE_UNSUPPORTED'
  | 'STORE_WORKER_LOST'
  | 'STORE_IO_ERROR'
  | 'STORE_DATA_LOST'
  | 'STORE_INVALID_ARTIFACT'
  | 'STORE_INVALID_CHECKPOINT'
  | 'STORE_VIEW_EXPIRED'
  | 'STORE_EXISTS'
  | 'STORE_SYNC_AUTH'
  | 'STORE_SYNC_OFFLINE'
  | 'STORE_SYNC_INVALID_MESSAGE'
  | 'STORE_SYNC_HISTORY_LOST';

/** The one runtime error class of Walden: `code` is stable, `message` may change, `cause` keeps the original error. */
export class StoreError extends Error {
  override name = 'StoreError';
  /** The stable, machine-readable reason. */
  readonly code: StoreErrorCode;
  /**
   * @param code The stable error code.
   * @param message A human-readable explanation (may change between versions).
   * @param options `cause`: the underlying error, such as a DOMException.
   */
  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The error for a call on a store that was closed (one message, wherever it is thrown). */
export function closedError(store: string): StoreError {
  return new StoreError('STORE_CLOSED', `store ${JSON.stringify(store)} is closed`);
}

const QUOTA_NAMES = new Set(['QuotaExceededError']);

/**
 * Turn whatever a platform call threw into a {@link StoreError}, keeping it as `cause`.
 *
 * @param error The thrown value.
 * @param context What was being done, for the message.
 * @returns A StoreError (the same object when it already is one).
 */
export function toStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const name = (error as { name?: string } | null)?.name ?? '';
  const message = (error as { message?: string } | null)?.message ?? String(error);
  if (QUOTA_NAMES.has(name) || /quota/i.test(message)) {
    return new StoreError('STORE_QUOTA_EXCEEDED', `${context}: out of storage quota (${message})`, { cause: error });
  }
  return new StoreError('STORE_IO_ERROR', `${context}: ${message}`, { cause: error });
}

interface WireStoreError {
  storeError: { code: StoreErrorCode; message: string; causeName?: string };
}

interface WireTypeError {
  typeError: { message: string };
}

/**
 * Make thrown {@link StoreError}s keep their `code`, and TypeErrors their class, across Comlink.
 * Comlink's built-in `throw` handler sends only message, name and stack; this wraps it.
 * Call it on both sides (page and worker); calling it twice is harmless.
 */
export function installErrorTransfer(): void {
  const builtin = transferHandlers.get('throw');
  if (!builtin || (builtin as { walden?: boolean }).walden) return;
  const handler = {
    walden: true,
    canHandle: builtin.canHandle,
    serialize(thrown: unknown): [unknown, Transferable[]] {
      const { value } = thrown as { value: unknown };
      // A wrong argument stays a real TypeError on the other side (Comlink's own gives a plain Error named so).
      if (value instanceof TypeError) return [{ typeError: { message: value.message } } satisfies WireTypeError, []];
      if (!(value instanceof StoreError)) return builtin.serialize(thrown);
      const causeName = (value.cause as { name?: string } | undefined)?.name;
      const wire: WireStoreError = { storeError: { code: value.code, message: value.message, ...(causeName ? { causeName } : {}) } };
      return [wire, []];
    },
    deserialize(wire: unknown): unknown {
      const typeError = (wire as Partial<WireTypeError> | null)?.typeError;
      if (typeError) throw new TypeError(typeError.message);
      const e = (wire as Partial<WireStoreError> | null)?.storeError;
      if (!e) return builtin.deserialize(wire);
      throw new StoreError(e.code, e.message, e.causeName ? { cause: { name: e.causeName } } : undefined);
    },
  };
  transferHandlers.set('throw', handler as typeof builtin);
}
