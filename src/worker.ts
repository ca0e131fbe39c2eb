/**
 * The worker entry (`walden/worker`): one store per dedicated worker. Import it from a worker
 * file of your own (`import 'walden/worker'`) or let `openStore` start it.
 */
import { expose } from 'comlink';
import { installErrorTransfer } from './errors.js';
import { createEngineHost } from './host/host.js';
import { withValueCodec } from './host/values.js';
import { serveHotPath } from './hotpath.js';
import { installWasmCrc32c } from './format/crc32c-wasm.js';

performance.mark?.('walden:worker');
installErrorTransfer();
const api = withValueCodec(createEngineHost());
// Large checksums (a snapshot's index at open, large values) in WebAssembly once it compiles:
// compiled from the open call on, while the lock and the catalog are awaited (compiled as the
// script started, it delayed the open call by about 1 ms).
const open = api.open;
api.open = (...args) => {
  void installWasmCrc32c();
  return open.apply(api, args);
};
// get and commit on the hot path (installed first: its messages stop there), the rest on Comlink.
serveHotPath(globalThis as unknown as Parameters<typeof serveHotPath>[0], api);
expose(api);
