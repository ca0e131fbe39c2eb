/**
 * Retention: what compaction removes once a new generation is committed. One older generation
 * is always kept (the previous snapshot and the log since it); the log goes further back for the
 * slowest checkpoint stream, as long as the segments it needs fit in the history budget.
 */
import { walSegments } from '../format/names.js';
import { removeUnlessHeld, type Catalog, type Directory } from './ports.js';

/**
 * Remove catalog rows and snapshots older than `previousSeq`, and the segments below the history
 * floor (rows first, then files: a crash in between leaves an orphan, which open removes).
 *
 * @param open The sizes of the segments the engine has open, by name (others are measured).
 * @param forget Called with a segment's name before it is removed: the engine closes it (a file
 *   still open cannot be removed) and stops tracking it.
 */
export async function retireBefore(dir: Directory, catalog: Catalog, store: string, previousSeq: number, historyBytes: number, open: ReadonlyMap<string, number>, forget: (name: string) => void): Promise<void> {
  for (const row of await catalog.list(store)) {
    if (row.seq >= previousSeq) continue;
    await catalog.delete(store, row.seq);
    await removeUnlessHeld(dir, row.file);
  }
  // Segments are listed from the directory, so ones recovery kept without opening go too.
  const onDisk = walSegments(await dir.list());
  const keepFromSeq = await historyFloor(dir, catalog, store, previousSeq, historyBytes, onDisk, open);
  for (let i = 0; i + 1 < onDisk.length; i++) {
    if (onDisk[i + 1]!.firstSeq > keepFromSeq + 1) break;
    forget(onDisk[i]!.name);
    await removeUnlessHeld(dir, onDisk[i]!.name);
  }
}

/**
 * The seq from which the log is kept: the previous generation always; further back for the
 * slowest checkpoint stream, as long as the segments it needs fit in `historyBytes`.
 */
async function historyFloor(dir: Directory, catalog: Catalog, store: string, previousSeq: number, historyBytes: number, onDisk: { name: string; firstSeq: number }[], open: ReadonlyMap<string, number>): Promise<number> {
  const floor = await catalog.checkpointFloor(store);
  if (floor === undefined || floor >= previousSeq) return previousSeq;
  let bytes = 0;
  let keepFrom = previousSeq;
  // Walk back from the previous generation, adding whole segments while the budget allows.
  for (let i = onDisk.length - 2; i >= 0; i--) {
    const segment = onDisk[i]!;
    if (onDisk[i + 1]!.firstSeq > previousSeq + 1) continue;
    const size = open.get(segment.name) ?? (await sizeOf(dir, segment.name));
    if (bytes + size > historyBytes) break;
    bytes += size;
    keepFrom = segment.firstSeq - 1;
    if (keepFrom <= floor) break;
  }
  return Math.max(keepFrom, Math.min(floor, previousSeq));
}

async function sizeOf(dir: Directory, name: string): Promise<number> {
  const file = await dir.open(name);
  try {
    return file.getSize();
  } finally {
    file.close();
  }
}
