/** Key ranges of the catalog's object stores; kept apart from `catalog.ts` so the page can use them without loading `idb`. */

/** Every key of `store`'s checkpoints, or of one stream of it. */
export function checkpointRange(store: string, stream?: string): IDBKeyRange {
  return stream === undefined ? IDBKeyRange.bound([store], [store, []]) : IDBKeyRange.bound([store, stream, Number.NEGATIVE_INFINITY], [store, stream, Number.POSITIVE_INFINITY]);
}
