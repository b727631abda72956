/**
 * The task loop a pool worker runs in its child process (Python's
 * `multiprocessing.pool.worker`). The parent sends tasks over a duplex pipe;
 * the worker answers each with its results, in the order the tasks came
 * (answers to short tasks a few at a time).
 */
import { EOFError } from '@mpjs/util';
import type { Connection } from '@mpjs/connection';
import { otherSideGone, type TaskChannel } from './channel.js';
import { MaybeEncodingError } from './errors.js';
import { pipeChannel } from './os-pipe.js';

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

/** What a worker sends: the answers to one or more tasks, in the order the tasks came. */
export type ResultBatch = ResultMessage[];

/** What a worker whose initializer failed sends before it exits: the initializer's error. */
export interface InitializerFailed {
  initializerError: unknown;
}

/** Any message from a worker to the pool. */
export type WorkerReply = ResultBatch | InitializerFailed;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs one task's calls in order. Synchronous functions give the result at
 * once; from the first call that returns a promise on, the rest is awaited.
 */
export function runTask(fn: TaskFunction, calls: unknown[], star: boolean): ResultMessage | Promise<ResultMessage> {
  const call = fn as (...args: unknown[]) => unknown;
  const started = performance.now();
  const out = new Array<unknown>(calls.length);
  try {
    for (let i = 0; i < calls.length; i++) {
      const value = star ? call(...(calls[i] as unknown[])) : call(calls[i]);
      if (isThenable(value)) return finishAsync(call, calls, star, out, i, value, started);
      out[i] = value;
    }
    return [true, out, performance.now() - started];
  } catch (error) {
    return [false, error, performance.now() - started];
  }
}

async function finishAsync(
  call: (...args: unknown[]) => unknown,
  calls: unknown[],
  star: boolean,
  out: unknown[],
  from: number,
  pending: PromiseLike<unknown>,
  started: number,
): Promise<ResultMessage> {
  try {
    out[from] = await pending;
    for (let i = from + 1; i < calls.length; i++) {
      let value = star ? call(...(calls[i] as unknown[])) : call(calls[i]);
      if (isThenable(value)) value = await value;
      out[i] = value;
    }
    return [true, out, performance.now() - started];
  } catch (error) {
    return [false, error, performance.now() - started];
  }
}

/**
 * Results of short synchronous tasks wait here for a moment and go back
 * together, so a message costs less than a task. They leave before the worker
 * waits for anything (its next message, a promise), before a task not known
 * to be short, after {@link HOLD_MS}, and when the process exits, so a task
 * that ends the worker with `process.exit` or an uncaught error is still the
 * one the pool blames. (A worker killed by a signal loses at most
 * {@link HOLD_MS} of finished short tasks with it: the first of them fails,
 * the others run again elsewhere.)
 */
class Replies {
  readonly #conn: TaskChannel;
  #held: ResultMessage[] = [];
  #since = 0;

  constructor(conn: TaskChannel) {
    this.#conn = conn;
  }

  add(message: ResultMessage): void {
    if (this.#held.length === 0) this.#since = performance.now();
    this.#held.push(message);
    if (this.#held.length >= MAX_HELD || performance.now() - this.#since >= HOLD_MS) this.flush();
  }

  /** Sends what is held; what cannot be encoded comes back as a MaybeEncodingError instead. */
  readonly flush = (): void => {
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    try {
      this.#conn.send(held);
    } catch (error) {
      if (otherSideGone(error)) throw error;
      // Nothing was sent: send them one by one, so only what cannot be sent is replaced.
      for (const message of held) sendAlone(this.#conn, message);
    }
  };
}

/** Replies held before being sent: at most this many, */
const MAX_HELD = 256;
/** and for at most this long (ms). */
const HOLD_MS = 0.2;

/** Sends one reply alone; what cannot be sent (encoded, or its handles passed) comes back as a MaybeEncodingError instead. */
function sendAlone(conn: TaskChannel, message: ResultMessage): void {
  try {
    conn.send([message]);
  } catch (error) {
    if (otherSideGone(error)) throw error;
    const what = message[0] ? 'result' : 'error';
    conn.send([[false, new MaybeEncodingError(`Error sending ${what}: ${(error as Error).message}`), message[2]]]);
  }
}

/** Tells the pool why this worker is about to end, so its tasks fail with the initializer's error as the cause. */
function reportInitializerError(conn: TaskChannel, error: unknown): void {
  try {
    try {
      conn.send({ initializerError: error } satisfies InitializerFailed);
    } catch (sendError) {
      if (otherSideGone(sendError)) return;
      const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      conn.send({ initializerError: new MaybeEncodingError(`Error sending the initializer's error (${what}): ${(sendError as Error).message}`) });
    }
  } catch {
    // The pool is gone: nobody to tell.
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
    try {
      const result = (initializer as (...args: unknown[]) => unknown)(...initargs);
      if (isThenable(result)) await result;
    } catch (error) {
      reportInitializerError(conn, error);
      throw error; // the worker ends as Python's does, its error printed, exit code 1
    }
  }
  const functions = new Map<number, TaskFunction>();
  const replies = new Replies(conn);
  /** How long the last task of each function took (ms), by function number (an array of doubles: no boxing per task). */
  const lastDuration: number[] = [];
  // A task that calls process.exit() (or throws where nothing catches it) ends the worker: what
  // the tasks before it gave still goes back, so the pool blames the right task.
  const flushAtExit = (): void => {
    try {
      replies.flush();
    } catch {
      // The pool is gone or the result cannot be sent: the exit itself is what the pool will see.
    }
  };
  process.on('exit', flushAtExit);
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
    for (let i = 0; i < task.length; i++) {
      const entry = task[i]!;
      const fnId = entry[0];
      const fn = entry[1];
      if (fn) functions.set(fnId, fn);
      const known = fn ?? functions.get(fnId);
      if (!known) throw new Error(`pool protocol error: task function #${fnId} was never sent to this worker`);
      // Results are held only across tasks known to be short: none waits behind a long one.
      if (!((lastDuration[fnId] ?? Infinity) < HOLD_MS)) replies.flush();
      let result = runTask(known, entry[2], entry[3]);
      if (!Array.isArray(result)) {
        replies.flush(); // nothing is held while this worker waits
        result = await result;
      }
      lastDuration[fnId] = result[2] ?? Infinity;
      replies.add(result);
      completed++;
    }
    replies.flush();
  }
  process.off('exit', flushAtExit);
  conn.close();
}

/**
 * The entry of a pool worker process: {@link poolWorker} over two one-way
 * pipes, tasks in and results out.
 * @internal Started by {@link Pool}; not meant to be called directly.
 */
export function pipePoolWorker(
  tasks: Connection,
  results: Connection,
  initializer: TaskFunction | null,
  initargs: unknown[],
  maxtasks: number | null,
): Promise<void> {
  return poolWorker(pipeChannel(tasks, results), initializer, initargs, maxtasks);
}
