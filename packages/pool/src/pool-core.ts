/**
 * The machinery behind a `Pool`: its workers (processes, or threads for a
 * `ThreadPool`), the queue of jobs, handing tasks out, reading results, and
 * ending.
 *
 * Each worker is a `Process` running `poolWorker` over two one-way OS pipes
 * (tasks in, results out). The parent keeps, per worker, the tasks it sent in order; a worker
 * answers them in that order, so when it dies the first unanswered task is the
 * one it was running (it fails, naming the exit code or signal) and the others
 * go to the remaining workers. While a worker's tasks are short, several wait
 * in its pipe, sent in one message, so it never idles between two tasks and a
 * message costs less than a task.
 *
 * A core never refers to the `Pool` object users hold. The pool's finalizer
 * keeps the core, to terminate it once that object is garbage-collected, so
 * nothing here (read callbacks, exit watchers, the finalizer itself) may keep
 * the `Pool` reachable, as Python's pool hands its handler threads the pieces
 * they need rather than itself. Pending jobs do keep it: their results hold
 * the `Pool` until they settle.
 */
import { constants as osConstants } from 'node:os';
import { Process, forkserverLearn, type LauncherSource, type StartMethod } from '@mpjs/process';
import { SerializationError, functionReference } from '@mpjs/serialization';
import { ProcessError, ValueError, enqueueMicrotask, getLogger } from '@mpjs/util';
import type { Job, Task } from './jobs.js';
import { oneWayPipe, pipeChannel } from './os-pipe.js';
import { otherSideGone, type TaskChannel, type WorkerLauncher, type WorkerRunner } from './channel.js';
import { pipePoolWorker, type ResultBatch, type TaskEntry, type TaskFunction, type WorkerReply } from './worker.js';

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

/** Python's RUN, CLOSE and TERMINATE. */
export type PoolState = 'run' | 'close' | 'terminate';

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
  /** Tasks {@link PoolCore.#dispatch} is about to send it, and how many more it takes (fields, not a Map per result). */
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

/** Numbers of task functions; a worker gets a function once and then its number. */
const functionIds = new Map<TaskFunction, number>();

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

/** `TypeError: message`, for messages (duck-typed: the error may come from another realm). */
function describeError(error: unknown): string {
  const { name, message } = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown };
  return typeof message === 'string' ? `${typeof name === 'string' ? name : 'Error'}: ${message}` : String(error);
}

/** What a core is made with: the pool's options, checked. */
export interface PoolCoreSettings {
  /** `Pool-1`: names the workers (`Pool-1Worker-1`) and messages. */
  readonly name: string;
  readonly processes: number;
  readonly initializer: TaskFunction | null;
  readonly initargs: unknown[];
  readonly maxtasks: number | null;
  readonly context: LauncherSource | StartMethod | null;
  /** Starts a worker some other way than as a process (a thread, for ThreadPool). */
  readonly launcher?: WorkerLauncher | undefined;
}

/** The workers and jobs of one pool (see the module's comment). */
export class PoolCore {
  /** Number of workers. */
  readonly processes: number;
  readonly name: string;
  readonly #initializer: TaskFunction | null;
  readonly #initargs: unknown[];
  readonly #maxtasks: number | null;
  readonly #context: LauncherSource | StartMethod | null;
  #state: PoolState = 'run';
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
  /** Told by a job once it is settled. */
  readonly onJobSettled = (job: Job): void => {
    this.#jobs.delete(job);
  };
  #workerCounter = 0;
  #dispatchScheduled = false;
  readonly #launch: WorkerLauncher;
  readonly #launchesThreads: boolean;

  constructor(settings: PoolCoreSettings) {
    this.processes = settings.processes;
    this.name = settings.name;
    this.#initializer = settings.initializer;
    this.#initargs = settings.initargs;
    this.#maxtasks = settings.maxtasks;
    this.#context = settings.context;
    const launcher = settings.launcher;
    this.#launchesThreads = launcher !== undefined;
    this.#launch = launcher ?? ((name, args) => this.#launchProcess(name, args));
    for (let i = 0; i < this.processes; i++) this.#startWorker();
  }

  get state(): PoolState {
    return this.#state;
  }

  /** Pids (thread ids) of the current workers. */
  get pids(): number[] {
    return [...this.#workers].map((w) => w.process.pid!);
  }

  /** Throws ValueError unless the pool takes submissions. */
  checkRunning(): void {
    if (this.#state !== 'run') {
      throw new ValueError(`Pool not running: it was ${this.#state === 'close' ? 'closed' : 'terminated'}; create a new Pool to submit more tasks`);
    }
  }

  /** Queues the work of a job that is not settled yet. */
  submit(job: Job): void {
    this.#jobs.add(job);
    this.#queue.push(job);
    this.scheduleDispatch();
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
    const { runner, channel } = this.#launch(`${this.name}Worker-${++this.#workerCounter}`, [
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
  scheduleDispatch(): void {
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

  /** `Pool.close()`: no more submissions; the workers exit once the tasks submitted are done. */
  close(): void {
    if (this.#state !== 'run') return;
    this.#state = 'close';
    for (const job of this.#jobs) job.drain?.();
    this.#stopIdleWorkers();
  }

  /** `Pool.terminate()`: stops the workers at once (SIGTERM), fails what is pending, and waits for them to exit. */
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

  /** `Pool.join()`: waits for the workers to exit; rejects with `signal.reason` if it aborts first. */
  async join(signal?: AbortSignal): Promise<void> {
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
}
