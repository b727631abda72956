/**
 * The producer of the queue workloads (queues.ts): a child process imports
 * this module (which loads @mpjs/queues, so the queue argument can be
 * rebuilt) and runs `produce`.
 */
import '@mpjs/queues';
import type { Queue, SimpleQueue } from '@mpjs/queues';

/** Puts `n` messages: the numbers 0…n-1, or `size`-byte buffers when `size` > 0. */
export async function produce(q: Queue | SimpleQueue, n: number, size: number): Promise<void> {
  const payload = size > 0 ? Buffer.alloc(size, 1) : null;
  for (let i = 0; i < n; i++) await q.put(payload ?? i);
}
