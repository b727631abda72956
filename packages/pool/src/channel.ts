/**
 * What the pool needs from a worker, whatever runs it: a process (`Pool`) or
 * a thread (`ThreadPool`).
 */

/** The message link between the pool and one worker (a `Connection` for processes). */
export interface TaskChannel {
  send(obj: unknown): void;
  /** Rejects (EOFError or similar) once the other side is gone. */
  recv(): Promise<unknown>;
  close(): void;
}

/** A running worker as the pool controls it (a `Process` for processes). */
export interface WorkerRunner {
  readonly name: string;
  /** Process id, or thread id for a thread. */
  readonly pid: number | null;
  /** Null while running; the exit code (negative signal number) afterwards. */
  readonly exitcode: number | null;
  /** The uncaught error that ended a worker thread, when known. */
  readonly error?: unknown;
  /** Waits for the worker to end, at most `timeout` ms; rejects with `signal.reason` if it aborts first. */
  join(timeout?: number, options?: { signal?: AbortSignal }): Promise<void>;
  terminate(): void;
  kill(): void;
}

/** Starts one worker running `poolWorker(channel, initializer, initargs, maxtasks)`. */
export type WorkerLauncher = (name: string, args: [initializer: unknown, initargs: unknown[], maxtasks: number | null]) => {
  runner: WorkerRunner;
  channel: TaskChannel;
};

/** System error codes of a send whose other end is gone. */
const GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ENOTCONN', 'EBADF']);

/**
 * Whether a `send` failed because the other side is gone (a worker died, the
 * pool went away), rather than because of what was sent: a message that
 * cannot be encoded, or handles that cannot be passed (too many, or none of
 * them can travel over this channel). Only the first may be answered by
 * trying elsewhere; sending the same message elsewhere would fail again.
 */
export function otherSideGone(error: unknown): boolean {
  // Duck-typed, not `instanceof Error`: Node's system errors come from its main realm, which
  // is not the realm of code run in a vm context (a test runner's, for one).
  const seen = new Set<object>();
  for (let e: unknown = error; typeof e === 'object' && e !== null && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && GONE_CODES.has(code)) return true;
  }
  return false;
}
