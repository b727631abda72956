export { Pool } from './pool.js';
export type { PoolOptions, MapOptions, MapAsyncOptions, ApplyOptions, ApplyAsyncOptions, IMapOptions } from './pool.js';
export { AsyncResult } from './async-result.js';
export type { ResultCallbacks } from './async-result.js';
export { IMapIterator } from './imap.js';
export type { IMapSettings } from './imap.js';
export { MaybeEncodingError } from './errors.js';
export { pipePoolWorker, poolWorker } from './worker.js';
export type { TaskFunction, TaskEntry, TaskMessage, ResultMessage, ResultBatch } from './worker.js';
export { ProcessError, TimeoutError, ValueError } from '@mpjs/util';
export { ThreadPool } from './thread-pool.js';
export type { ThreadPoolOptions } from './thread-pool.js';

// Functions of this package travel to other processes by reference (a manager's
// server, its registry; a pool's worker loop): declared here, they are found at
// once rather than through the inspector.
import { registerModuleExports } from '@mpjs/serialization';
import * as self from './index.js';
registerModuleExports(import.meta.url, self);
