/**
 * `JoinableQueue`: a {@link Queue} that also counts unfinished tasks, so a
 * producer can wait until consumers have processed everything it put
 * (Python's `multiprocessing.JoinableQueue`). The count lives in the queue's
 * shared memory: it goes up with every put, in any process, and down with
 * every `taskDone()`, in any process.
 */
import { futexWaitAsync, futexWake } from '@mpjs/native';
import { ValueError } from '@mpjs/util';
import { channelOf } from './core.js';
import { QueueKind } from './messages.js';
import { Queue, kKind, type InternalOptions, type QueueOptions } from './queue.js';
import { LIVENESS_SLICE, Word } from './ring-buffer.js';

/**
 * A {@link Queue} with `taskDone()` and `join()`. Call `taskDone()` once for
 * every item got, when its processing is finished; `join()` resolves when
 * every item ever put has been marked done.
 *
 * @typeParam T What the queue carries (not checked at run time).
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  /**
   * @param maxsize The most items the queue holds (put waits when it is full);
   *   0 or less for no limit.
   */
  constructor(maxsize = 0, options?: QueueOptions) {
    super(maxsize, { ...options, [kKind]: QueueKind.JOINABLE } as InternalOptions);
  }

  /**
   * Marks one task (an item got from the queue) as done. Throws `ValueError`
   * if called more times than there were items put.
   */
  taskDone(): void {
    const words = channelOf(this).ring.words;
    for (;;) {
      const unfinished = Atomics.load(words, Word.UNFINISHED);
      if (unfinished <= 0) {
        throw new ValueError('taskDone() called more times than there were items put on the queue');
      }
      if (Atomics.compareExchange(words, Word.UNFINISHED, unfinished, unfinished - 1) === unfinished) {
        if (unfinished === 1) futexWake(words, Word.UNFINISHED);
        return;
      }
    }
  }

  /**
   * Resolves when every item put on the queue (by any process) has been
   * got and marked done with `taskDone()`. Tasks reserved by a producer that
   * was killed before its item reached shared memory are counted as done.
   */
  async join(): Promise<void> {
    const ring = channelOf(this).ring;
    const words = ring.words;
    for (;;) {
      const unfinished = Atomics.load(words, Word.UNFINISHED);
      if (unfinished <= 0) return;
      const result = await futexWaitAsync(words, Word.UNFINISHED, unfinished, { timeout: LIVENESS_SLICE });
      if (result === 'timed-out') ring.recoverDeadProducers();
    }
  }
}
