export { openStore, deleteStore, type OpenStoreOptions } from './client/open.js';
export { Store, type BatchOp, type ExpiryOptions } from './client/store.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type { Durability, ScanRange, StoreInfo, RecoveryReport } from './protocol.js';
export { Checkpoints, type Checkpoint, type CheckpointInput } from './client/checkpoints.js';
export type { Change, ChangeOp, WatchOptions } from './client/feed.js';
export type { ConsumeOptions, Consumer } from './client/consume.js';
export { encodeCheckpoint, decodeCheckpoint, CheckpointFormatError, type CheckpointData } from './format/checkpoint.js';
