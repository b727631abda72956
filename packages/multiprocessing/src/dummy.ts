/**
 * `@mpjs/multiprocessing/dummy`: Python's `multiprocessing.dummy`, the API of
 * the module on worker threads of this one process. `Pool` is a `ThreadPool`,
 * `Process` runs its target on a worker thread, and the queues, locks and
 * shared values are the same shared-memory objects as in the main package
 * (they work between threads as they do between processes). Threads share
 * the process: `currentProcess().pid` and a thread's `pid` are `process.pid`.
 */
export { ThreadPool as Pool } from '@mpjs/pool';
export type { ThreadPoolOptions as PoolOptions } from '@mpjs/pool';
export { DummyProcess as Process, DummyProcess, activeThreads as activeChildren } from './dummy-process.js';
export type { DummyProcessOptions as ProcessOptions, DummyProcessOptions } from './dummy-process.js';
export { Queue, SimpleQueue, JoinableQueue } from '@mpjs/queues';
export { Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier } from '@mpjs/synchronize';
export { Value, SharedArray, SharedArray as Array, RawValue, RawArray } from '@mpjs/sharedctypes';
export { Pipe, Connection } from '@mpjs/connection';
export { currentProcess, cpuCount, freezeSupport } from '@mpjs/process';
export { Empty, Full, TimeoutError, ProcessError, BrokenBarrierError, ValueError, getLogger, logToStderr } from '@mpjs/util';
