/**
 * `Pool`: Python's `multiprocessing.Pool`, a fixed number of worker
 * processes that run the tasks submitted to it.
 *
 * Each worker is a `Process` running `poolWorker` over two one-way OS pipes
 * (tasks in, results out). The parent keeps, per worker, the tasks it sent in order; a worker
 * answers them in that order, so when it dies the first unanswered task is the
 * one it was running (it fails, naming the exit code or signal) and the others
 * go to the remaining workers. While a worker's tasks are short, several wait
 * in its pipe, sent in one message, so it never idles between two tasks and a
 * message costs less than a task.
 */
import { constants as osConstants } from 'node:os';
import { Process, cpuCount, forkserverLearn, type LauncherSource, type StartMethod } from '@mpjs/process';
import { SerializationError, functionReference } from '@mpjs/serialization';
import { ProcessError, ValueError, checkSignal, enqueueMicrotask, getLogger, type AbortOptions } from '@mpjs/util';
import { AsyncResult, kSettle, type ResultCallbacks } from './async-result.js';
import { ListJob, defaultChunksize, type Job, type Task } from './jobs.js';
import { IMapIterator } from './imap.js';
import { oneWayPipe, pipeChannel } from './os-pipe.js';
import { otherSideGone, type TaskChannel, type WorkerLauncher, type WorkerRunner } from './channel.js';
import { pipePoolWorker, type ResultBatch, type TaskEntry, type TaskFunction, type WorkerReply } from './worker.js';
import { argsOf, argumentLists, checkChunksize, checkFunction, countOption, inputOf, listOf, poolOptions } from './checks.js';

/**
 * A worker gets tasks in advance only while its tasks take less than this
 * (ms): short tasks then never wait for a round trip, and a long task never
 * holds another one back from a worker that is free.
 */
const SHORT_TASK_MS = 2;
/** How long a worker whose pipe ended may take to exit before it is killed (ms). */
const LINGER_MS = 2000;
/** Most tasks a worker may hold at once (short tasks only). */
const MAX_PIPELINE = 64;
/** A worker holds about this much work (ms) in advance, at its recent pace. */
const PIPELINE_BUDGET_MS = 1;

/** Options of `new Pool()`, as Python's keyword arguments. */
export interface PoolOptions {
  /** Number of worker processes; `cpuCount()` when omitted. */
  processes?: number | null;
  /** Called as `initializer(...initargs)` once in each worker when it starts (exported function). */
  initializer?: TaskFunction | null;
  /** Arguments of the initializer. */
  initargs?: Iterable<unknown>;
  /** Tasks a worker does before it is replaced by a fresh one; unlimited when omitted. */
  maxtasksperchild?: number | null;
  /** Context (or start method name) that starts the workers; the default context when omitted. */
  context?: LauncherSource | StartMethod | null;
}

/** Options of `map`, `starmap` and their async forms. */
export interface MapOptions {
  /** Items per task; by default about four tasks per worker, as in Python. */
  chunksize?: number | null;
  /**
   * Aborting it before the result is ready cancels the chunks not yet handed
   * to a worker, and the result rejects at once with the signal's reason. The
   * chunks already handed out (short tasks are handed out a few at a time
   * ahead of need) run to their end in their workers, and their results are
   * dropped. (To stop waiting without cancelling, pass a signal to `get()`.)
   */
  signal?: AbortSignal | null;
}

/** Options of `mapAsync`/`starmapAsync`. */
export type MapAsyncOptions<T> = MapOptions & ResultCallbacks<T>;

/** Options of `apply`. */
export interface ApplyOptions {
  /**
   * Aborting it before the task is handed to a worker cancels it: it never
   * runs, and the result rejects with the signal's reason. Once a worker has
   * it, aborting has no effect: the task runs on and its result (or error)
   * stands. (To stop waiting without cancelling, pass a signal to `get()`.)
   */
  signal?: AbortSignal | null;
}

/** Options of `applyAsync`. */
export type ApplyAsyncOptions<T> = ApplyOptions & ResultCallbacks<T>;

/** Options of `imap`/`imapUnordered`. */
export interface IMapOptions {
  /** Items per task (default 1). */
  chunksize?: number | null;
}

type State = 'run' | 'close' | 'terminate';

/** A worker process and what the parent knows of it. */
interface Worker {
  readonly process: WorkerRunner;
  readonly conn: TaskChannel;
  /** Tasks sent and not yet answered, oldest first. */
  readonly inflight: Task[];
  /** When each task in `inflight` was sent. */
  readonly sentAt: number[];
  /** When the last result arrived. */
  lastResultAt: number;
  /** How long the last task took (Infinity before the first). */
  lastDuration: number;
  sent: number;
  /** Numbers of the functions this worker already has. */
  readonly functions: Set<number>;
  /** A `recv()` of this worker's results is under way. */
  reading: boolean;
  /** Reads the next batch of results (made once per worker: a round trip allocates as little as it can). */
  readonly read: () => void;
  /** Tasks {@link Pool.#dispatch} is about to send it, and how many more it takes (fields, not a Map per result). */
  outbox: Task[];
  wants: number;
  /** Told to stop (or has reached maxtasksperchild): gets no more tasks. */
  retiring: boolean;
  /** Found gone by a send: gets no more tasks; its results are read to their end before it is accounted for. */
  dying: boolean;
  gone: boolean;
  /** Its initializer failed (and it exits): the error, which the task it was given fails with. */
  initializerError?: { error: unknown };
}

/** How `apply` splits its work: one call, its arguments spread, its value the result. */
const ONE_CALL = Object.freeze({ name: 'Pool.apply()', chunksize: 1, star: true, single: true });
/** Options of a call given none (not a fresh object per call: round trips are many). */
const NO_OPTIONS = Object.freeze({});

let poolCounter = 0;
/** Option key by which a subclass (ThreadPool) supplies its own way of starting workers. */
export const kLauncher = Symbol('mpjs.pool.launcher');
/** Numbers of task functions; a worker gets a function once and then its number. */
const functionIds = new Map<TaskFunction, number>();

/** The option names of `new Pool()`. */
export const POOL_OPTION_NAMES: readonly string[] = ['processes', 'initializer', 'initargs', 'maxtasksperchild', 'context'];

/** "exited with exit code 3", "was killed by signal SIGKILL (exit code -9)". */
function describeExit(process: WorkerRunner): string {
  const code = process.exitcode;
  if (code === null) return 'closed its pipe while still running';
  if (code < 0) {
    const signals = osConstants.signals as unknown as Record<string, number>;
    const name = Object.keys(signals).find((key) => signals[key] === -code);
    return `was killed by signal ${name ?? -code} (exit code ${code})`;
  }
  return `exited with exit code ${code}`;
}

/** The signal of `join(options)`, which takes no timeout. */
function joinSignal(options: unknown): AbortSignal | undefined {
  if (options === undefined || options === null) return undefined;
  const timeout = typeof options === 'object' ? (options as { timeout?: unknown }).timeout : options;
  if (timeout !== undefined) {
    const ms = typeof timeout === 'number' ? timeout : 'ms';
    throw new TypeError(`Pool.join() takes no timeout, as Python's does not; to stop waiting after a while, pass { signal: AbortSignal.timeout(${ms}) }`);
  }
  return checkSignal('Pool.join()', (options as AbortOptions).signal);
}

/** `TypeError: message`, for messages (duck-typed: the error may come from another realm). */
function describeError(error: unknown): string {
  const { name, message } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown };
  return typeof message === 'string' ? `${typeof name === 'string' ? name : 'Error'}: ${message}` : String(error);
}

/**
 * A pool of worker processes (Python's `multiprocessing.Pool`). Task
 * functions travel by reference: they must be exported from a module the
 * workers can import. `await using pool = new Pool()` terminates it at the
 * end of the scope.
 */
export class Pool implements AsyncDisposable {
  readonly #processes: number;
  readonly #initializer: TaskFunction | null;
  readonly #initargs: unknown[];
  readonly #maxtasks: number | null;
  readonly #context: LauncherSource | StartMethod | null;
  readonly #name: string;
  #state: State = 'run';
  /** Live workers that take tasks or finish theirs. */
  readonly #workers = new Set<Worker>();
  /** Every worker process not yet joined. */
  readonly #unjoined = new Set<Worker>();
  /** Jobs with work to hand out, in submission order (holes: jobs that ran out). */
  #queue: Array<Job | undefined> = [];
  /** Index of the first job of #queue that may still have work. */
  #queueHead = 0;
  /** Holes in #queue after #queueHead. */
  #queueHoles = 0;
  /** Tasks taken back from a dead worker, run first. */
  readonly #retry: Task[] = [];
  /** Jobs not yet settled. */
  readonly #jobs = new Set<Job>();
  readonly #onJobSettled = (job: Job): void => {
    this.#jobs.delete(job);
  };
  #workerCounter = 0;
  #dispatchScheduled = false;
  readonly #launch: WorkerLauncher;
  readonly #launchesThreads: boolean;

  /**
   * `new Pool(4)` or `new Pool({ processes: 4, initializer, initargs, maxtasksperchild, context })`.
   * Anything else (a string, an array, an unknown option) is a TypeError.
   */
  constructor(options?: number | PoolOptions | null) {
    const fn = `new ${new.target.name}()`;
    const opts = poolOptions<PoolOptions>(options, fn, POOL_OPTION_NAMES);
    const processes = countOption(opts.processes, fn, 'processes', 'how many workers') ?? cpuCount();
    if (!Number.isInteger(processes) || processes < 1) {
      throw new ValueError(`Number of processes must be at least 1 (an integer), got ${String(processes)}`);
    }
    const maxtasks = countOption(opts.maxtasksperchild, fn, 'maxtasksperchild', 'tasks per worker');
    if (maxtasks !== null && (!Number.isInteger(maxtasks) || maxtasks < 1)) {
      throw new ValueError(`maxtasksperchild must be a positive integer or null, got ${String(maxtasks)}`);
    }
    if (opts.initializer != null) checkFunction(opts.initializer, `${fn}: initializer`);
    this.#processes = processes;
    this.#initializer = opts.initializer ?? null;
    this.#initargs = argsOf(opts.initargs, fn, 'initargs');
    this.#maxtasks = maxtasks;
    this.#context = opts.context ?? null;
    this.#name = `${new.target.name}-${++poolCounter}`;
    const launcher = (opts as { [kLauncher]?: WorkerLauncher })[kLauncher];
    this.#launchesThreads = launcher !== undefined;
    this.#launch = launcher ?? ((name, args) => this.#launchProcess(name, args));
    for (let i = 0; i < processes; i++) this.#startWorker();
  }

  /** Number of worker processes. */
  get processes(): number {
    return this.#processes;
  }

  /** Pids of the current worker processes (for monitoring and tests). */
  get pids(): number[] {
    return [...this.#workers].map((w) => w.process.pid!);
  }

  // ---- submitting ------------------------------------------------------------

  /** Calls `fn(...args)` in a worker and resolves with its result (rejects with its error). */
  async apply<A extends unknown[], R>(fn: (...args: A) => R, args?: A, options: ApplyOptions = NO_OPTIONS): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

  /** Submits `fn(...args)` and returns at once an {@link AsyncResult}; `callback`/`errorCallback` get the outcome. */
  applyAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    args?: A,
    options: ApplyAsyncOptions<Awaited<R>> = NO_OPTIONS,
  ): AsyncResult<Awaited<R>> {
    checkFunction(fn, 'the task function');
    return this.#submitList(fn, [argsOf(args, 'Pool.apply()', 'args (2nd argument)')], ONE_CALL, options);
  }

  /** Python's `map`: `fn(item)` for each item, in order, spread over the workers in chunks. */
  async map<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.mapAsync(fn, iterable, options).get();
  }

  /** The non-blocking `map`: returns an {@link AsyncResult} of the list. */
  mapAsync<T, R>(fn: (item: T) => R, iterable: Iterable<T>, options: MapAsyncOptions<Awaited<R>[]> = {}): AsyncResult<Awaited<R>[]> {
    return this.#submitMap(fn, iterable, 'Pool.map()', options);
  }

  /** Python's `starmap`: `fn(...args)` for each argument list. */
  async starmap<A extends unknown[], R>(fn: (...args: A) => R, iterable: Iterable<A>, options: MapOptions = {}): Promise<Awaited<R>[]> {
    return this.starmapAsync(fn, iterable, options).get();
  }

  /** The non-blocking `starmap`. */
  starmapAsync<A extends unknown[], R>(
    fn: (...args: A) => R,
    iterable: Iterable<A>,
    options: MapAsyncOptions<Awaited<R>[]> = {},
  ): AsyncResult<Awaited<R>[]> {
    return this.#submitMap(fn, iterable, 'Pool.starmap()', options);
  }

  /**
   * Python's `imap`: an async iterator of `fn(item)` in input order. The
   * input (sync or async iterable, possibly endless) is read only as workers
   * free up and results are consumed, until the pool is closed: then the rest
   * of it is read, so that `join()` can complete (an endless input keeps it
   * waiting until the iterator is returned). `next(timeout)` rejects with
   * TimeoutError when the next result is not ready in time.
   */
  imap<T, R>(fn: (item: T) => R, iterable: Iterable<T> | AsyncIterable<T>, options: IMapOptions = {}): IMapIterator<Awaited<R>> {
    return this.#submitIMap(fn, iterable, 'Pool.imap()', options);
  }

  /** Like {@link Pool.imap}, in the order results arrive. */
  imapUnordered<T, R>(
    fn: (item: T) => R,
    iterable: Iterable<T> | AsyncIterable<T>,
    options: IMapOptions = {},
  ): IMapIterator<Awaited<R>> {
    return this.#submitIMap(fn, iterable, 'Pool.imapUnordered()', options);
  }

  #checkRunning(): void {
    if (this.#state !== 'run') {
      throw new ValueError(`Pool not running: it was ${this.#state === 'close' ? 'closed' : 'terminated'}; create a new Pool to submit more tasks`);
    }
  }

  #submitMap<R>(fn: TaskFunction, iterable: Iterable<unknown>, name: 'Pool.map()' | 'Pool.starmap()', options: MapAsyncOptions<R>): AsyncResult<R> {
    this.#checkRunning();
    checkFunction(fn, 'the task function');
    const star = name === 'Pool.starmap()';
    const items = listOf(iterable, name);
    const calls = star ? argumentLists(items, name) : items;
    let chunksize = options.chunksize ?? defaultChunksize(items.length, this.#processes);
    if (items.length === 0) chunksize = 1;
    else checkChunksize(chunksize);
    return this.#submitList(fn, calls, { name, chunksize, star, single: false }, options);
  }

  #submitList<R>(
    fn: TaskFunction,
    calls: unknown[],
    how: { name: string; chunksize: number; star: boolean; single: boolean },
    options: ApplyAsyncOptions<R>,
  ): AsyncResult<R> {
    this.#checkRunning();
    const signal = checkSignal(how.name, options.signal);
    const result = new AsyncResult<R>(options);
    if (signal?.aborted) {
      result[kSettle](false, signal.reason);
      return result;
    }
    const job = new ListJob<R>(result, fn, calls, how.chunksize, how.star, how.single, this.#onJobSettled);
    if (!result.ready()) {
      this.#jobs.add(job);
      this.#queue.push(job);
      if (signal) {
        const onAbort = (): void => job.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        void result.wait().then(() => signal.removeEventListener('abort', onAbort));
      }
      this.#scheduleDispatch();
    }
    return result;
  }

  #submitIMap<R>(
    fn: TaskFunction,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    name: 'Pool.imap()' | 'Pool.imapUnordered()',
    options: IMapOptions,
  ): IMapIterator<R> {
    this.#checkRunning();
    checkFunction(fn, 'the task function');
    const chunksize = options.chunksize ?? 1;
    checkChunksize(chunksize);
    const iterator = new IMapIterator<R>(fn, inputOf(iterable, name), {
      chunksize,
      ordered: name === 'Pool.imap()',
      highWater: this.#processes * 4,
      wake: () => this.#scheduleDispatch(),
      onSettled: this.#onJobSettled,
    });
    this.#jobs.add(iterator.job);
    this.#queue.push(iterator.job);
    this.#scheduleDispatch();
    return iterator;
  }

  // ---- workers ---------------------------------------------------------------

  #launchProcess(name: string, args: [unknown, unknown[], number | null]): { runner: WorkerRunner; channel: TaskChannel } {
    // Only this process reads the results, and only the worker its tasks (see os-pipe.ts).
    const [results, childResults] = oneWayPipe();
    const [childTasks, tasks] = oneWayPipe();
    const process = new Process({
      target: pipePoolWorker,
      args: [childTasks, childResults, ...args],
      name,
      daemon: true,
      context: this.#context,
    });
    try {
      process.start();
    } catch (error) {
      results.close();
      tasks.close();
      throw error;
    } finally {
      // The child has its own copies; without ours, its death shows as end of file.
      childTasks.close();
      childResults.close();
    }
    return { runner: process as WorkerRunner, channel: pipeChannel(results, tasks) };
  }

  #startWorker(): void {
    const { runner, channel } = this.#launch(`${this.#name}Worker-${++this.#workerCounter}`, [
      this.#initializer,
      this.#initargs,
      this.#maxtasks,
    ]);
    const onResults = (reply: unknown): void => this.#onReply(worker, reply as WorkerReply);
    const onLost = (): void => {
      worker.reading = false;
      void this.#workerLost(worker);
    };
    const worker: Worker = {
      process: runner,
      conn: channel,
      inflight: [],
      sentAt: [],
      lastResultAt: 0,
      lastDuration: Infinity,
      sent: 0,
      functions: new Set(),
      reading: false,
      read: () => void channel.recv().then(onResults, onLost),
      outbox: [],
      wants: 0,
      retiring: false,
      dying: false,
      gone: false,
    };
    this.#workers.add(worker);
    this.#unjoined.add(worker);
  }

  #nextTask(): Task | undefined {
    if (this.#retry.length > 0) return this.#retry.shift();
    const queue = this.#queue;
    for (let i = this.#queueHead; i < queue.length; i++) {
      const job = queue[i];
      if (job === undefined) {
        if (i === this.#queueHead) {
          this.#queueHead++;
          this.#queueHoles--;
        }
        continue;
      }
      const task = job.take();
      if (task) return task;
      if (!job.exhausted) continue; // an imap job waiting for its input: later jobs go first
      queue[i] = undefined;
      if (i === this.#queueHead) this.#queueHead++;
      else this.#queueHoles++;
    }
    this.#compactQueue();
    return undefined;
  }

  /** Drops the jobs that ran out, so finding the next task stays cheap however many jobs are queued. */
  #compactQueue(): void {
    const live = this.#queue.length - this.#queueHead - this.#queueHoles;
    if (this.#queueHead > 1024 || this.#queueHoles > 64 + live) {
      this.#queue = this.#queue.filter((job) => job !== undefined);
      this.#queueHead = 0;
      this.#queueHoles = 0;
    } else if (this.#queueHead === this.#queue.length) {
      this.#queue.length = 0;
      this.#queueHead = 0;
      this.#queueHoles = 0;
    }
  }

  /** Tasks `worker` may hold at once, at the pace of its recent tasks. */
  #capacity(worker: Worker): number {
    let depth = 1;
    if (worker.lastDuration < SHORT_TASK_MS) {
      depth = Math.max(2, Math.min(MAX_PIPELINE, Math.floor(PIPELINE_BUDGET_MS / Math.max(worker.lastDuration, 0.001))));
    }
    if (this.#maxtasks !== null) depth = Math.min(depth, this.#maxtasks - worker.sent + worker.inflight.length);
    return depth;
  }

  /**
   * How many tasks `worker` takes now: none while it is retiring, full or
   * still above half of what it may hold (topping it up then would send one
   * message per finished task), else up to what it may hold.
   */
  #room(worker: Worker): number {
    if (worker.retiring) return 0;
    const held = worker.inflight.length;
    const capacity = this.#capacity(worker);
    if (held >= capacity || (held > 0 && held > capacity >> 1)) return 0;
    return capacity - held;
  }

  /** Dispatches once the current synchronous code is done, so tasks submitted together travel together. */
  #scheduleDispatch(): void {
    if (this.#dispatchScheduled) return;
    this.#dispatchScheduled = true;
    enqueueMicrotask(this.#scheduledDispatch);
  }

  readonly #scheduledDispatch = (): void => {
    this.#dispatchScheduled = false;
    this.#dispatch();
  };

  /**
   * Hands tasks to workers with room, one round at a time so work spreads
   * evenly. A worker with tasks in hand is topped up only once it is down to
   * half of what it may hold, so tasks go out in batches rather than one
   * message per finished task.
   */
  #dispatch(): void {
    if (this.#state === 'terminate') return;
    let room = 0;
    for (const worker of this.#workers) room += worker.wants = this.#room(worker);
    if (room === 0) return;
    let exhausted = false;
    while (room > 0 && !exhausted) {
      for (const worker of this.#workers) {
        if (worker.wants === 0) continue;
        const task = this.#nextTask();
        if (!task) {
          exhausted = true;
          break;
        }
        worker.outbox.push(task);
        worker.wants--;
        room--;
      }
    }
    // Sending may start or lose workers (and dispatch again): each batch leaves its outbox first.
    for (const worker of this.#workers) {
      const batch = worker.outbox;
      if (batch.length === 0) continue;
      worker.outbox = [];
      this.#send(worker, batch);
    }
    if (exhausted) this.#stopIdleWorkers();
  }

  /** The wire form of `task` for `worker`: the function itself only the first time this worker sees it. */
  #entry(worker: Worker, task: Task, announced: number[]): TaskEntry {
    let fnId = functionIds.get(task.fn);
    if (fnId === undefined) functionIds.set(task.fn, (fnId = functionIds.size + 1));
    const known = worker.functions.has(fnId) || announced.includes(fnId);
    if (!known) {
      announced.push(fnId);
      this.#learnModule(task.fn);
    }
    return [fnId, known ? null : task.fn, task.calls, task.star];
  }

  /** Tells the forkserver which module a task function comes from, so its next workers start with it loaded. */
  #learnModule(fn: TaskFunction): void {
    try {
      forkserverLearn([functionReference(fn).module]);
    } catch {
      // Not sendable by reference: encoding the task reports it.
    }
  }

  #send(worker: Worker, tasks: Task[]): void {
    if (worker.process.exitcode !== null) {
      // Already known to have exited: the tasks have not started, so another worker runs them.
      this.#retry.unshift(...tasks);
      this.#workerDying(worker);
      return;
    }
    const announced: number[] = [];
    try {
      worker.conn.send(tasks.map((task) => this.#entry(worker, task, announced)));
    } catch (error) {
      if (!(error instanceof SerializationError) && (otherSideGone(error) || worker.process.exitcode !== null)) {
        // The worker is gone (broken pipe): another one runs the tasks.
        this.#retry.unshift(...tasks);
        this.#workerDying(worker);
        return;
      }
      // Nothing was written: the tasks could not be encoded, or their handles not passed. Alone,
      // only the task at fault fails; in a batch, find it. (Sent elsewhere, it would fail again.)
      if (tasks.length === 1) tasks[0]!.job.chunkDone(tasks[0]!.index, false, error);
      else for (const task of tasks) this.#send(worker, [task]);
      return;
    }
    for (const fnId of announced) worker.functions.add(fnId);
    const now = performance.now();
    for (const task of tasks) {
      worker.inflight.push(task);
      worker.sentAt.push(now);
    }
    worker.sent += tasks.length;
    if (this.#maxtasks !== null && worker.sent >= this.#maxtasks) {
      // It exits by itself after these tasks; its replacement starts now.
      worker.retiring = true;
      this.#workers.delete(worker);
      if (this.#state === 'run' || this.#hasWork()) this.#startWorker();
    }
    this.#read(worker);
  }

  /** Reads `worker`'s next batch of results, unless a read is under way. */
  #read(worker: Worker): void {
    if (worker.reading) return;
    worker.reading = true;
    worker.read();
  }

  #onReply(worker: Worker, reply: WorkerReply): void {
    if (Array.isArray(reply)) {
      this.#onResults(worker, reply);
      return;
    }
    // Its initializer failed: it gets no more tasks, and what it was given fails once it is gone (#workerLost).
    worker.reading = false;
    worker.initializerError = { error: reply.initializerError };
    this.#workerDying(worker);
  }

  /** The results of `worker`'s oldest tasks arrived. */
  #onResults(worker: Worker, batch: ResultBatch): void {
    worker.reading = false;
    if (worker.gone) return; // read before the pool was terminated
    const now = performance.now();
    for (let i = 0; i < batch.length; i++) {
      const message = batch[i]!;
      const task = worker.inflight.shift();
      if (!task) throw new Error(`pool protocol error: worker ${worker.process.name} answered a task it was not given`);
      const sentAt = worker.sentAt.shift()!;
      // The worker's own measure when given: results read together would look instantaneous.
      worker.lastDuration = message[2] ?? now - Math.max(sentAt, worker.lastResultAt);
      worker.lastResultAt = now;
      task.job.chunkDone(task.index, message[0], message[1]);
    }
    this.#dispatch();
    if (worker.inflight.length > 0 || worker.dying) this.#read(worker);
    else if (worker.retiring) this.#reap(worker);
  }

  #hasWork(): boolean {
    return this.#retry.length > 0 || this.#queue.some((job) => job !== undefined && !job.exhausted);
  }

  /** After close(), workers with nothing left to do are told to exit. */
  #stopIdleWorkers(): void {
    if (this.#state !== 'close' || this.#hasWork()) return;
    for (const worker of [...this.#workers]) {
      if (worker.inflight.length > 0) continue;
      worker.retiring = true;
      this.#workers.delete(worker);
      try {
        worker.conn.send(null);
      } catch {
        // Already gone: reaping finds out.
      }
      this.#reap(worker);
    }
  }

  /** Joins a worker that is leaving and releases its pipe. */
  #reap(worker: Worker): void {
    if (worker.gone) return;
    worker.gone = true;
    void worker.process.join().then(() => {
      worker.conn.close();
      this.#unjoined.delete(worker);
    });
  }

  /** Takes `worker` out of the pool and starts its replacement when there is (or may be) work for one. */
  #detach(worker: Worker): void {
    if (!this.#workers.delete(worker) || this.#state === 'terminate') return;
    if (this.#state === 'run' || this.#hasWork() || worker.inflight.length > 0) this.#startWorker();
  }

  /**
   * A send found `worker` gone. The results of the tasks it finished may still
   * wait in its pipe, unread: it is read to its end first, so that the task
   * blamed is the first one left unanswered, the one it died on.
   */
  #workerDying(worker: Worker): void {
    if (worker.dying || worker.gone) return;
    worker.dying = true;
    this.#detach(worker);
    this.#read(worker);
    // A process that closed its end but lingers (a hanging exit handler) is ended, so the end of its pipe comes.
    void worker.process.join(LINGER_MS).then(() => {
      if (worker.process.exitcode === null && !worker.gone) worker.process.kill();
    });
    this.#dispatch();
  }

  /** A worker's pipe ended: fail the task it ran, give its other tasks to others, replace it. */
  async #workerLost(worker: Worker): Promise<void> {
    if (worker.gone) return;
    worker.gone = true;
    this.#detach(worker);
    const running = worker.inflight.shift();
    worker.sentAt.length = 0;
    this.#retry.unshift(...worker.inflight.splice(0));
    worker.conn.close();
    this.#dispatch();
    await worker.process.join(LINGER_MS);
    if (worker.process.exitcode === null) {
      worker.process.kill();
      await worker.process.join();
    }
    this.#unjoined.delete(worker);
    if (running && this.#state !== 'terminate') {
      const who = `worker ${worker.process.name} (${this.#launchesThreads ? 'thread' : 'pid'} ${worker.process.pid})`;
      const failed = worker.initializerError;
      // A thread's uncaught error, duck-typed (a test runner's realm is not the thread's).
      const uncaught = worker.process.error as { message?: unknown } | undefined;
      const cause = typeof uncaught?.message === 'string' ? ` (${uncaught.message})` : '';
      const error = failed
        ? new ProcessError(
            `the initializer of ${who} failed (${describeError(failed.error)}), so the worker ${describeExit(worker.process)} ` +
              "without running this task; the initializer's error is this error's cause",
            { cause: failed.error },
          )
        : new ProcessError(
            `${who} ${describeExit(worker.process)}${cause} while running a task; the task was lost (the other tasks went to the remaining workers)`,
          );
      getLogger().debug('%s', error.message);
      running.job.chunkDone(running.index, false, error);
    }
    this.#stopIdleWorkers();
  }

  // ---- ending ----------------------------------------------------------------

  /**
   * Prevents more submissions; the workers exit once the tasks already
   * submitted are done. An `imap` not read to its end then reads the rest of
   * its input, and its results wait for the consumer, so that `join()` can
   * complete before they are read (as in Python); with an endless input,
   * `join()` waits until the iterator is returned.
   */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    for (const job of this.#jobs) job.drain?.();
    this.#stopIdleWorkers();
  }

  /**
   * Stops the workers at once (SIGTERM); results still pending reject with a
   * ProcessError. Resolves once the worker processes have exited.
   */
  async terminate(): Promise<void> {
    if (this.#state !== 'terminate') {
      this.#state = 'terminate';
      const error = new ProcessError('the pool was terminated before this task finished');
      for (const job of [...this.#jobs]) job.fail(error);
      this.#queue = [];
      this.#queueHead = 0;
      this.#queueHoles = 0;
      this.#retry.length = 0;
      for (const worker of this.#unjoined) {
        worker.gone = true;
        if (worker.process.exitcode === null) {
          try {
            worker.process.terminate();
          } catch {
            // Already reaped.
          }
        }
        worker.conn.close();
      }
      this.#workers.clear();
    }
    await this.#joinAll();
  }

  /**
   * Waits for the worker processes to exit; call close() or terminate() first
   * (otherwise ValueError). As Python's, it takes no timeout. Aborting
   * `signal` rejects with `signal.reason` and stops only the wait: the
   * workers finish their tasks, and a later `join()` waits for them again.
   */
  async join(options?: AbortOptions): Promise<void> {
    const signal = joinSignal(options);
    if (this.#state === 'run') throw new ValueError('Pool is still running: call close() or terminate() before join()');
    if (signal?.aborted) throw signal.reason;
    await this.#joinAll(signal);
  }

  async #joinAll(signal?: AbortSignal): Promise<void> {
    while (this.#unjoined.size > 0) {
      const workers = [...this.#unjoined];
      await Promise.all(workers.map((w) => w.process.join(undefined, signal ? { signal } : undefined)));
      for (const w of workers) {
        if (w.process.exitcode !== null) {
          if (this.#state === 'terminate') w.conn.close();
          this.#unjoined.delete(w);
        }
      }
    }
  }

  /** `await using pool = new Pool()`: terminates the pool, as Python's `with` does. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** A short description: `<Pool state=RUN pool_size=4>`. */
  toString(): string {
    return `<Pool state=${this.#state.toUpperCase()} pool_size=${this.#processes}>`;
  }
}
