/**
 * The worker entry (`walden/worker`): one store per dedicated worker. Import it from a worker
 * file of your own (`import 'walden/worker'`) or let `openStore` start it.
 */
import { expose } from 'comlink';
import { installErrorTransfer } from './errors.js';
import { createEngineHost } from './host/host.js';
import { withValueCodec } from './host/values.js';

performance.mark?.('walden:worker');
installErrorTransfer();
expose(withValueCodec(createEngineHost()));
