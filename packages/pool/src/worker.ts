/**
 * The task loop a pool worker runs in its child process (Python's
 * `multiprocessing.pool.worker`). The parent sends tasks over a duplex pipe;
 * the worker answers each with its results, in the order the tasks came.
 */
import { EOFError } from '@mpjs/util';
import { SerializationError } from '@mpjs/serialization';
import type { TaskChannel } from './channel.js';
import { MaybeEncodingError } from './errors.js';

/** A function a pool runs: exported from a module so a worker can import it. */
// `never[]` parameters accept any function type without resorting to `any`.
export type TaskFunction = (...args: never[]) => unknown;

/**
 * One task as it travels to a worker: the function's number in this pool,
 * the function itself the first time this worker sees it (null afterwards:
 * resolving a reference costs more than running a small task), the list of
 * calls (each an item, or an argument list when `star`), and whether to
 * spread them.
 */
export type TaskEntry = [fnId: number, fn: TaskFunction | null, calls: unknown[], star: boolean];

/**
 * What the pool sends a worker: one or more tasks in one message (short
 * tasks travel in batches, so a message costs less than a task), or `null`
 * to tell the worker to exit.
 */
export type TaskMessage = TaskEntry[] | null;

/** A worker's answer to one task: `[true, results]` or `[false, error]`, and how long it ran (ms). */
export type ResultMessage = [ok: boolean, value: unknown, ms?: number];

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Runs one task's calls in order; async functions are awaited. */
export async function runTask(fn: TaskFunction, calls: unknown[], star: boolean): Promise<ResultMessage> {
  const call = fn as (...args: unknown[]) => unknown;
  const started = performance.now();
  try {
    const out = new Array<unknown>(calls.length);
    for (let i = 0; i < calls.length; i++) {
      let value = star ? call(...(calls[i] as unknown[])) : call(calls[i]);
      if (isThenable(value)) value = await value;
      out[i] = value;
    }
    return [true, out, performance.now() - started];
  } catch (error) {
    return [false, error, performance.now() - started];
  }
}

/** Sends a reply; what cannot be encoded comes back as a MaybeEncodingError instead. */
function reply(conn: TaskChannel, message: ResultMessage): void {
  try {
    conn.send(message);
  } catch (error) {
    if (!(error instanceof SerializationError)) throw error;
    const what = message[0] ? 'result' : 'error';
    conn.send([false, new MaybeEncodingError(`Error sending ${what}: ${error.message}`), message[2]]);
  }
}

/**
 * The entry of a pool worker process: runs `initializer(...initargs)` once,
 * then tasks until it gets `null`, the pipe closes, or it has done
 * `maxtasks` tasks (a chunk of `map` counts as one task, as in Python).
 * @internal Started by {@link Pool}; not meant to be called directly.
 */
export async function poolWorker(
  conn: TaskChannel,
  initializer: TaskFunction | null,
  initargs: unknown[],
  maxtasks: number | null,
): Promise<void> {
  if (initializer) {
    const result = (initializer as (...args: unknown[]) => unknown)(...initargs);
    if (isThenable(result)) await result;
  }
  const functions = new Map<number, TaskFunction>();
  let completed = 0;
  while (maxtasks === null || completed < maxtasks) {
    let task: TaskMessage;
    try {
      task = (await conn.recv()) as TaskMessage;
    } catch (error) {
      if (error instanceof EOFError) break; // the pool went away
      throw error;
    }
    if (task === null) break;
    // Each result goes back as soon as it is ready, so when this worker dies
    // the pool knows which task of a batch was running.
    for (const [fnId, fn, calls, star] of task) {
      if (fn) functions.set(fnId, fn);
      const known = fn ?? functions.get(fnId);
      if (!known) throw new Error(`pool protocol error: task function #${fnId} was never sent to this worker`);
      reply(conn, await runTask(known, calls, star));
      completed++;
    }
  }
  conn.close();
}
