/**
 * Who leads a store: the worker holding the Web Lock `walden:<name>`. This module wraps the lock
 * (take it now, queue for it, steal it) and the epoch counter in IndexedDB, and nothing else.
 */

/** The Web Lock a store's leader holds: `walden:<name>`. */
export function lockName(store: string): string {
  return `walden:${store}`;
}

/** How to ask for the lock. */
export type LockMode = 'now' | 'queue' | 'steal';

/** A held lock: `release()` lets it go; `lost` resolves if someone steals it first. */
export interface HeldLock {
  release(): void;
  lost: Promise<void>;
}

/**
 * Ask for the store's lock. `now` resolves undefined at once if it is held; `queue` waits its
 * turn (abortable with `signal`, then it resolves undefined); `steal` takes it from the holder.
 */
export function acquireLock(store: string, mode: LockMode, signal?: AbortSignal): Promise<HeldLock | undefined> {
  return new Promise((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let markLost!: () => void;
    const lost = new Promise<void>((r) => (markLost = r));
    let granted = false;
    const options: LockOptions = mode === 'now' ? { ifAvailable: true } : mode === 'steal' ? { steal: true } : signal ? { signal } : {};
    navigator.locks
      .request(lockName(store), options, (lock) => {
        if (!lock) {
          resolve(undefined);
          return undefined;
        }
        granted = true;
        resolve({ release, lost });
        return held;
      })
      .catch((error: unknown) => {
        if (granted) markLost(); // stolen while held
        else if ((error as DOMException).name === 'AbortError') resolve(undefined); // our own abort
        else reject(error);
      });
  });
}

/** Whether other contexts are waiting for the store's lock. */
export async function othersWaiting(store: string): Promise<boolean> {
  const snapshot = await navigator.locks.query();
  return (snapshot.pending ?? []).some((lock) => lock.name === lockName(store));
}
