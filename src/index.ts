export { openStore, deleteStore, type OpenStoreOptions } from './client/open.js';
export { Store, type BatchOp } from './client/store.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export type { Durability, ScanRange, StoreInfo, RecoveryReport } from './protocol.js';
