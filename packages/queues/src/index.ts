// Registers the queue types with the codec, so that queues travel as Process arguments.
import './travel.js';

export { Queue } from './queue.js';
export type { QueueOptions, PutOptions, GetOptions } from './queue.js';
export type { WaitOptions } from './core.js';
export { SimpleQueue } from './simple-queue.js';
export { JoinableQueue } from './joinable-queue.js';
export { Empty, Full, ValueError, AssertionError } from '@mpjs/util';
