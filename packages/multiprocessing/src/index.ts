/**
 * `@mpjs/multiprocessing`: Python's `multiprocessing` module for Node.js.
 * Every public name of every mpjs package, plus contexts that have every
 * factory (`getContext('forkserver').Queue()`), as Python's top level has them.
 */
export * from '@mpjs/util';
export * from '@mpjs/serialization';
export * from '@mpjs/native';
export * from '@mpjs/process';
export * from '@mpjs/connection';
export * from '@mpjs/synchronize';
export * from '@mpjs/sharedctypes';
export * from '@mpjs/queues';
export * from '@mpjs/pool';
export * from '@mpjs/managers';

// Both packages name their wait options `WaitOptions`: the primitives' keep the name.
export type { WaitOptions } from '@mpjs/synchronize';
export type { WaitOptions as QueueWaitOptions } from '@mpjs/queues';

// Contexts with every factory replace the Process-only ones of @mpjs/process.
export { SpawnContext, ForkServerContext, DefaultContext, defaultContext, getContext } from './context.js';
export type { Context, ContextFactories, ContextPoolOptions, ContextManagerOptions } from './context.js';

/**
 * Python's `multiprocessing.Array`: the same class as `SharedArray`. Importing
 * it by name shadows JavaScript's `Array` in the importing module, so prefer
 * `SharedArray`, `mp.Array` (namespace import) or `import { Array as MpArray }`.
 */
export { SharedArray as Array } from '@mpjs/sharedctypes';
