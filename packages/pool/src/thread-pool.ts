/**
 * `ThreadPool`: Python's `multiprocessing.pool.ThreadPool`, the Pool API on
 * worker threads (`node:worker_threads`) instead of processes. Threads start
 * faster and share the process, but as in any Node worker thread, task
 * functions still travel by reference (exported from a module) and
 * arguments and results are copied.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, Worker as Thread, type WorkerOptions } from 'node:worker_threads';
import { getExecArgv } from '@mpjs/process';
import { defaultCodec } from '@mpjs/serialization';
import { EOFError, normalizeTimeout, waitFor } from '@mpjs/util';
import type { TaskChannel, WorkerLauncher, WorkerRunner } from './channel.js';
import { poolOptions } from './checks.js';
import { kLauncher, Pool, POOL_OPTION_NAMES, type PoolOptions } from './pool.js';
import { PolledPort, transferable } from './polled-port.js';
import type { ThreadWorkerData } from './thread-worker.js';

/** Options of `new ThreadPool()`: those of Pool but `context` (threads need none). */
export type ThreadPoolOptions = Omit<PoolOptions, 'context'>;

const THREAD_POOL_OPTION_NAMES = POOL_OPTION_NAMES.filter((name) => name !== 'context');

/** The thread entry next to this module: compiled `.js`, or the `.ts` source under a TypeScript loader. */
function entryUrl(): URL {
  const js = new URL('./thread-worker.js', import.meta.url);
  return existsSync(js) ? js : new URL('./thread-worker.ts', import.meta.url);
}

/**
 * The code a worker thread starts with. Loader hooks of `--import` do not reach
 * worker threads in Node 20, so under tsx (TypeScript sources) the thread
 * registers tsx itself before importing the entry and the task modules.
 */
function threadBootstrap(): string {
  const entry = entryUrl();
  const usesTsx = entry.pathname.endsWith('.ts') || getExecArgv().some((arg) => arg.includes('tsx'));
  if (!usesTsx) return `import(${JSON.stringify(entry.href)})`;
  const api = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
}

/** Where Node's ERR_WORKER_INVALID_EXEC_ARGV lists the options a Worker refused (`a, b`). */
const REFUSED = 'invalid execArgv flags: ';
/** The options threads start with, keyed by the options children get (`getExecArgv()`): worked out once for each. */
const threadArgv = new Map<string, string[]>();
/** Options that load code, which a thread needs to import TypeScript sources or hooked modules. */
const LOADER_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C']);

/** The options a Worker refused, or undefined when `error` is not that refusal. */
function refusedOptions(error: unknown): Set<string> | undefined {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') return undefined;
  const message = String((error as Error).message);
  const at = message.indexOf(REFUSED);
  return at < 0 ? undefined : new Set(message.slice(at + REFUSED.length).split(', '));
}

/** The options of `argv` that `keep` accepts; an option's value, when it is the next argument, goes with it. */
function pickOptions(argv: readonly string[], keep: (arg: string) => boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    // In execArgv, an argument that is not an option is the value of the option before it.
    const value = !arg.includes('=') && next !== undefined && !next.startsWith('-') ? next : undefined;
    if (keep(arg)) {
      out.push(arg);
      if (value !== undefined) out.push(value);
    }
    if (value !== undefined) i++;
  }
  return out;
}

/**
 * Starts a thread with the Node options children get (`getExecArgv()`), less
 * those a Worker refuses: V8 options (`--max-old-space-size`, `--expose-gc`,
 * `--stack-size`…) and process-wide ones (`--title`…), which the thread shares
 * with the process anyway. Node names what it refused; what is left is kept
 * for the next threads, so the refusal is met once per set of options.
 */
function startThread(code: string, options: Omit<WorkerOptions, 'execArgv'>): Thread {
  const argv = getExecArgv();
  const key = argv.join('\0');
  let execArgv = threadArgv.get(key) ?? argv;
  for (;;) {
    try {
      const thread = new Thread(code, { ...options, execArgv });
      threadArgv.set(key, execArgv);
      return thread;
    } catch (error) {
      const refused = refusedOptions(error);
      if (refused === undefined) throw error;
      let fewer = pickOptions(execArgv, (arg) => !refused.has(arg));
      // A refusal this cannot read: keep only what loads code.
      if (fewer.length === execArgv.length) fewer = pickOptions(execArgv, (arg) => LOADER_OPTIONS.has(arg.split('=')[0]!));
      if (fewer.length === execArgv.length) throw error;
      execArgv = fewer;
    }
  }
}

/** What a join's timeout rejects with, to tell it from an abort (a join that times out resolves). */
const TIMED_OUT = Symbol('timed out');

class ThreadRunner implements WorkerRunner, TaskChannel {
  readonly name: string;
  readonly #thread: Thread;
  #exitcode: number | null = null;
  #error: unknown;
  readonly #threadId: number;
  readonly #exited: Promise<void>;
  /** Tasks out, results in: a port of its own, which the pool can poll (a Worker's own channel cannot be). */
  readonly #port: PolledPort;
  /** Waits under way (a result, the thread's exit): while there are any, the thread keeps the program alive. */
  #holds = 0;

  constructor(name: string, settings: Uint8Array) {
    this.name = name;
    const { port1, port2 } = new MessageChannel();
    const data: ThreadWorkerData = { settings, port: port2 };
    // A dynamic import goes through the loaders of execArgv (a `.ts` entry needs them).
    this.#thread = startThread(threadBootstrap(), { eval: true, workerData: data, transferList: [port2], name });
    // An idle pool lets the program end, as a pool of daemonic processes does; a wait holds it (#hold).
    this.#thread.unref();
    this.#threadId = this.#thread.threadId;
    this.#port = new PolledPort(port1, { refWhileWaiting: true });
    this.#thread.on('error', (error) => (this.#error = error)); // reported when a task is lost
    this.#exited = new Promise((resolve) =>
      this.#thread.once('exit', (code) => {
        this.#exitcode = code;
        this.#port.end(new EOFError(`worker thread ${name} ended`));
        this.#port.close();
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.#threadId;
  }

  /** The uncaught error that ended the thread, if any. */
  get error(): unknown {
    return this.#error;
  }

  get exitcode(): number | null {
    return this.#exitcode;
  }

  send(obj: unknown): void {
    if (this.#exitcode !== null) throw new EOFError(`worker thread ${this.name} has ended`);
    this.#port.post(...transferable(defaultCodec.encode(obj)));
  }

  /**
   * Like a connection, the port keeps the program alive only while a result
   * is awaited; so does the thread, whose 'exit' event ends the wait when the
   * thread dies during a task (its port alone would let the program end first).
   */
  async recv(): Promise<unknown> {
    const message = this.#port.recv();
    if (!this.#port.waiting) return defaultCodec.decodeAsync((await message) as Uint8Array);
    const release = this.#hold();
    try {
      return defaultCodec.decodeAsync((await message) as Uint8Array);
    } finally {
      release();
    }
  }

  close(): void {
    if (this.#exitcode === null) this.#port.post(null);
  }

  /** Waits for the thread to exit (at most `timeout` ms), keeping the program alive meanwhile. */
  async join(timeout?: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    const ms = normalizeTimeout(timeout);
    if (this.#exitcode !== null) return;
    const release = this.#hold();
    try {
      await waitFor(this.#exited, { timeout: ms, signal: options.signal, onTimeout: () => TIMED_OUT });
    } catch (error) {
      if (error !== TIMED_OUT) throw error;
    } finally {
      release();
    }
  }

  /** Keeps the thread referenced until the returned function is called (Popen's hold(), for a thread). */
  #hold(): () => void {
    if (this.#holds++ === 0) this.#thread.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds === 0) this.#thread.unref();
    };
  }

  terminate(): void {
    void this.#thread.terminate();
  }

  kill(): void {
    void this.#thread.terminate();
  }
}

const launchThread: WorkerLauncher = (name, [initializer, initargs, maxtasks]) => {
  // A copy of its own: workerData clones a view with all of the encode buffer behind it.
  const runner = new ThreadRunner(name, transferable(defaultCodec.encode([initializer, initargs, maxtasks]))[0]);
  return { runner, channel: runner };
};

/**
 * A pool of worker threads with the API of {@link Pool} (Python's
 * `ThreadPool`). `new ThreadPool(4)` or `new ThreadPool({ processes, initializer, initargs, maxtasksperchild })`.
 */
export class ThreadPool extends Pool {
  /** As {@link Pool}'s constructor, without `context`: anything else is a TypeError. */
  constructor(options?: number | ThreadPoolOptions | null) {
    const opts = poolOptions<ThreadPoolOptions>(options, `new ${new.target.name}()`, THREAD_POOL_OPTION_NAMES);
    super({ ...opts, [kLauncher]: launchThread } as PoolOptions);
  }
}
