/**
 * Where Walden's stores live in OPFS: the directory `walden/` at the origin's root, one
 * directory per store. Directory-level calls only (they exist on the page too); the files
 * themselves are opened in `opfs.ts`.
 */

/** The `walden/` directory, created when `create` is set; undefined when it does not exist (or this engine has no OPFS). */
export async function waldenRoot(create: true): Promise<FileSystemDirectoryHandle>;
export async function waldenRoot(create?: false): Promise<FileSystemDirectoryHandle | undefined>;
export async function waldenRoot(create = false): Promise<FileSystemDirectoryHandle | undefined> {
  // WebKitGTK without its StorageAPI flag has no navigator.storage at all: no OPFS to look in.
  if (!create && !globalThis.navigator?.storage?.getDirectory) return undefined;
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle('walden', { create });
  } catch (error) {
    if ((error as DOMException).name === 'NotFoundError') return undefined;
    throw error;
  }
}

/** Remove a store's whole OPFS directory (nothing happens if there is none). */
export async function removeOpfsDirectory(name: string): Promise<void> {
  const walden = await waldenRoot();
  try {
    await walden?.removeEntry(name, { recursive: true });
  } catch (error) {
    if ((error as DOMException).name !== 'NotFoundError') throw error;
  }
}

/** The names in a store's OPFS directory, sorted; empty when it does not exist. */
export async function listStoreFiles(name: string): Promise<string[]> {
  try {
    const dir = await (await waldenRoot())?.getDirectoryHandle(name);
    if (!dir) return [];
    const names: string[] = [];
    // `keys()` is in every engine that has OPFS; lib.dom lacks it in some versions.
    for await (const entry of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(entry);
    return names.sort();
  } catch (error) {
    if ((error as DOMException).name === 'NotFoundError') return [];
    throw error;
  }
}
