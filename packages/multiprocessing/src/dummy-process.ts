/**
 * `DummyProcess`: Python's `multiprocessing.dummy.Process`, the `Process` API
 * on a worker thread (`node:worker_threads`) of this process. The rules are
 * those of worker threads: the target travels by reference (a function
 * exported from a module) and the arguments are copied by the codec, as for
 * a child process; queues, locks, events and shared values arrive as the same
 * shared objects, each with its own descriptor of the shared memory.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { getExecArgv, type Target } from '@mpjs/process';
import { defaultCodec, type HandleRecord } from '@mpjs/serialization';
import { getLogger, ProcessError, ValueError, waitArguments, waitFor, type AbortOptions, type Timeout, type TimeoutOptions } from '@mpjs/util';
import type { DummyThreadData, DummyThreadReport } from './dummy-thread.js';

/** What a join's timeout rejects with inside join(), which then resolves. */
const JOIN_TIMED_OUT = Symbol('join timed out');

/** The thread entry next to this module: compiled `.js`, or the `.ts` source under a TypeScript loader. */
function threadCode(): string {
  const js = new URL('./dummy-thread.js', import.meta.url);
  const entry = existsSync(js) ? js : new URL('./dummy-thread.ts', import.meta.url);
  const usesTsx = entry.pathname.endsWith('.ts') || getExecArgv().some((arg) => arg.includes('tsx'));
  if (!usesTsx) return `import(${JSON.stringify(entry.href)})`;
  // Loader hooks of `--import` do not reach worker threads in Node 20: the thread registers tsx itself.
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
}

/**
 * The thread takes ownership of the descriptors that arrive with its
 * arguments, as a child process does: give it its own. A record marked with
 * this process's pid is one whose receiver opens its own copy (queues do).
 */
function ownHandles(handles: HandleRecord[]): HandleRecord[] {
  const opened: number[] = [];
  try {
    return handles.map((record) => {
      if ((record.meta as { pid?: unknown } | undefined)?.pid === process.pid) return record;
      let fd: number;
      try {
        fd = openSync(`/proc/self/fd/${record.fd}`, 'r+');
      } catch (error) {
        throw new ValueError(
          `a ${record.kind} cannot be passed to a dummy Process (its descriptor cannot be reopened: ${(error as Error).message}); ` +
            'create it in the thread, or pass a Queue',
        );
      }
      opened.push(fd);
      return { ...record, fd };
    });
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    throw error;
  }
}

/** Options of `new DummyProcess()` (those of `new Process()` but `context`). */
export interface DummyProcessOptions {
  /** The function the thread runs; it must be exported from a module (threads import it by reference). */
  target?: Target | null;
  /** Its arguments. */
  args?: readonly unknown[];
  /** Passed as one extra last argument when given, as `Process` does. */
  kwargs?: Record<string, unknown> | null;
  /** Name (default `Thread-N`). */
  name?: string | null;
  /** A daemon thread does not keep the program alive (its thread is unref'd), as in Python. */
  daemon?: boolean | null;
}

let counter = 0;
const alive = new Set<DummyProcess>();

/** The `DummyProcess` objects started and not yet finished (Python's `multiprocessing.dummy.active_children()`). */
export function activeThreads(): DummyProcess[] {
  return [...alive];
}

/**
 * Python's `multiprocessing.dummy.Process`: runs `target(...args)` on a worker thread.
 *
 * ```ts
 * const t = new DummyProcess({ target: work, args: [1] });
 * t.start();
 * await t.join();
 * t.exitcode; // 0, or 1 when the target threw (the error is in t.error)
 * ```
 */
export class DummyProcess {
  /** The thread's name. */
  name: string;
  /** Whether the thread lets the program exit while it runs (read when `start()` is called). */
  daemon: boolean;
  readonly #target: Target | null;
  readonly #args: unknown[];
  readonly #kwargs: Record<string, unknown> | null;
  #done: Promise<void> | null = null;
  #finished = false;
  #error: unknown = undefined;

  constructor(options: DummyProcessOptions = {}) {
    const { target = null, args = [], kwargs = null, name = null, daemon = null } = options;
    if (target !== null && typeof target !== 'function') {
      throw new TypeError(`DummyProcess: target must be a function exported from a module, got ${typeof target}`);
    }
    this.#target = target;
    this.#args = [...args];
    this.#kwargs = kwargs;
    this.name = name ?? `Thread-${++counter}`;
    this.daemon = daemon ?? false;
  }

  /** The id of this process: threads share it. */
  get pid(): number {
    return process.pid;
  }

  /** Null until the thread has finished; then 0, or 1 when the target threw. */
  get exitcode(): number | null {
    if (!this.#finished) return null;
    return this.#error === undefined ? 0 : 1;
  }

  /** What the target threw, if it did. */
  get error(): unknown {
    return this.#error;
  }

  /** Starts the thread; a second call throws `ProcessError`. */
  start(): void {
    if (this.#done !== null) throw new ProcessError('DummyProcess.start(): threads can only be started once');
    if (this.#target === null) {
      this.#finished = true;
      this.#done = Promise.resolve();
      return;
    }
    const args = this.#kwargs ? [...this.#args, this.#kwargs] : this.#args;
    const sent: HandleRecord[] = [];
    const bytes = defaultCodec.encode([this.#target, args], { handles: sent });
    const data: DummyThreadData = { bytes, handles: ownHandles(sent) };
    const thread = new Worker(threadCode(), { eval: true, workerData: data, execArgv: getExecArgv(), name: this.name });
    if (this.daemon) thread.unref();
    let report: DummyThreadReport | null = null;
    thread.on('message', (message: DummyThreadReport) => {
      report = message;
    });
    alive.add(this);
    this.#done = new Promise<void>((resolve) => {
      thread.on('error', (error) => {
        this.#error = error;
      });
      thread.on('exit', (code) => {
        void (async () => {
          const encoded = (report as DummyThreadReport | null)?.error;
          if (encoded) this.#error = await defaultCodec.decodeAsync(encoded).catch((error: unknown) => error);
          else if (report === null && this.#error === undefined) {
            this.#error = new ProcessError(`thread ${this.name} ended with exit code ${code} before its target returned`);
          }
          if (this.#error !== undefined) {
            const e = this.#error;
            getLogger().error(`Exception in thread ${this.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
          }
          this.#finished = true;
          alive.delete(this);
          resolve();
        })();
      });
    });
  }

  /** Whether the thread was started and has not finished. */
  isAlive(): boolean {
    return this.#done !== null && !this.#finished;
  }

  /**
   * Waits until the thread has finished, at most `timeout` ms (it then
   * resolves with the thread still running); aborting `signal` rejects with
   * its reason.
   */
  async join(timeout?: Timeout | TimeoutOptions, options?: AbortOptions): Promise<void> {
    const { ms, signal } = waitArguments('DummyProcess.join()', timeout, options);
    if (this.#done === null) throw new ProcessError('DummyProcess.join(): can only join a started thread');
    if (ms === Infinity && !signal) return this.#done;
    // A timeout resolves (the thread is still running), as Process.join() does.
    await waitFor(this.#done, { timeout: ms, signal, onTimeout: () => JOIN_TIMED_OUT }).catch((error: unknown) => {
      if (error !== JOIN_TIMED_OUT) throw error;
    });
  }

  /** `<DummyProcess(name, state)>`. */
  toString(): string {
    return `<DummyProcess(${this.name}, ${this.#finished ? 'stopped' : this.#done ? 'started' : 'initial'})>`;
  }
}
