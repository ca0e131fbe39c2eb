/**
 * Backups over plain HTTP (`PUT`/`GET`, e.g. an object store's presigned URLs): the artifact
 * first, then its manifest as the sibling object `<url>.manifest.json`, so the manifest's
 * presence means the upload is complete.
 */
import { StoreError } from '../errors.js';
import type { StoreInfo } from '../protocol.js';
import { importStore, type ImportStoreOptions } from './open.js';
import type { Store } from './store.js';

/** Default limit of one HTTP request. */
export const TRANSFER_TIMEOUT_MS = 60_000;

/** Progress of a transfer: `loaded` of `total` bytes (total is undefined when the server does not say). */
export interface TransferProgress {
  phase: 'upload' | 'download';
  loaded: number;
  total: number | undefined;
}

/** Options of {@link exportTo} and {@link importFrom}. */
export interface TransferOptions {
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Each request fails after this long (default 60 s). */
  timeoutMs?: number;
  /** Where the manifest lives (default: `url` with `.manifest.json` added to its path). */
  manifestUrl?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  onProgress?: (progress: TransferProgress) => void;
}

/** The sibling manifest URL: `.manifest.json` appended to the path, keeping the query. */
export function manifestUrlOf(url: string): string {
  const parsed = new URL(url, globalThis.location?.href);
  parsed.pathname += '.manifest.json';
  return parsed.toString();
}

async function request(fetchFn: typeof fetch, url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchFn(url, { ...init, signal: controller.signal });
    return response;
  } catch (error) {
    if (controller.signal.aborted) throw new StoreError('STORE_IO_ERROR', `${init.method ?? 'GET'} ${url} timed out after ${timeoutMs} ms`, { cause: error });
    throw new StoreError('STORE_IO_ERROR', `${init.method ?? 'GET'} ${url} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

function checkOk(response: Response, what: string): void {
  if (!response.ok) throw new StoreError('STORE_IO_ERROR', `${what}: HTTP ${response.status} ${response.statusText}`);
}

/**
 * Export `store` and upload it to `url` with `PUT`, then its manifest to the sibling URL.
 *
 * @returns The artifact's manifest.
 * @throws {@link StoreError} `STORE_IO_ERROR` for a failed or timed-out request.
 */
export async function exportTo(store: Store, url: string, options: TransferOptions = {}) {
  if (typeof url !== 'string') throw new TypeError('exportTo needs a URL');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? TRANSFER_TIMEOUT_MS;
  const { blob, manifest } = await store.exportWithManifest();
  options.onProgress?.({ phase: 'upload', loaded: 0, total: blob.size });
  // Payload first; the manifest only once the payload is stored.
  checkOk(await request(fetchFn, url, { method: 'PUT', body: blob, headers: { 'content-type': 'application/x-tar', ...options.headers } }, timeoutMs), `PUT ${url}`);
  options.onProgress?.({ phase: 'upload', loaded: blob.size, total: blob.size });
  const manifestUrl = options.manifestUrl ?? manifestUrlOf(url);
  checkOk(await request(fetchFn, manifestUrl, { method: 'PUT', body: JSON.stringify(manifest), headers: { 'content-type': 'application/json', ...options.headers } }, timeoutMs), `PUT ${manifestUrl}`);
  return manifest;
}

/**
 * Download the artifact at `url` (only if its sibling manifest exists, and equals the one inside)
 * and import it as the store `name`.
 *
 * @throws {@link StoreError} `STORE_INVALID_ARTIFACT` (no manifest: the upload is incomplete; or
 *   anything `importStore` refuses), `STORE_IO_ERROR` for failed or timed-out requests.
 */
export async function importFrom(name: string, url: string, options: TransferOptions & Omit<ImportStoreOptions, 'expectedManifest'> = {}): Promise<StoreInfo> {
  if (typeof url !== 'string') throw new TypeError('importFrom needs a URL');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? TRANSFER_TIMEOUT_MS;
  const manifestUrl = options.manifestUrl ?? manifestUrlOf(url);
  const manifestResponse = await request(fetchFn, manifestUrl, { headers: { ...options.headers } }, timeoutMs);
  if (manifestResponse.status === 404) throw new StoreError('STORE_INVALID_ARTIFACT', `invalid artifact: no manifest at ${manifestUrl}; the upload is incomplete`);
  checkOk(manifestResponse, `GET ${manifestUrl}`);
  const manifest = await manifestResponse.text();
  const response = await request(fetchFn, url, { headers: { ...options.headers } }, timeoutMs);
  checkOk(response, `GET ${url}`);
  const total = Number(response.headers.get('content-length')) || undefined;
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let loaded = 0;
  const reader = response.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    options.onProgress?.({ phase: 'download', loaded, total });
  }
  const { fetch: _f, timeoutMs: _t, manifestUrl: _m, headers: _h, onProgress: _p, ...importOptions } = options;
  return importStore(name, new Blob(chunks), { ...importOptions, expectedManifest: manifest });
}
