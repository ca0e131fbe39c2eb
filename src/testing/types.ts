/** Types shared by the two halves of `walden/testing` (the Node kit and the in-page inspector). */

/** A store as the kit reads it without the app's help. */
export interface StoreState {
  seq: number;
  durableSeq: number;
  /** Every key with its value and the seq that wrote it, in key order. */
  entries: { key: string; value: unknown; seq: number }[];
  /** The store's OPFS files. */
  files: string[];
  /** Its snapshot catalog rows in IndexedDB. */
  catalog: unknown[];
  /** Its checkpoint rows in IndexedDB. */
  checkpoints: unknown[];
  /** What recovery did when the kit opened it. */
  recovery: unknown;
}
