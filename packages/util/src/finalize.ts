/**
 * Python's `multiprocessing.util.Finalize`: a callback that runs once, either
 * when its object is garbage-collected, when it is called explicitly, or (if it
 * has an exit priority) when the process exits — highest priority first, and
 * among equals the most recently created first.
 */

/** Options of a {@link Finalize}. */
export interface FinalizeOptions<A extends unknown[]> {
  /** Arguments passed to the callback. */
  args?: A;
  /**
   * Run at process exit, in descending priority order. Without it the
   * finalizer runs only when called or when its object is collected.
   */
  exitpriority?: number;
}

let counter = 0;
const registry = new Map<number, Finalize<unknown[]>>();
const collected = new FinalizationRegistry<number>((key) => {
  registry.get(key)?.call();
});
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => runFinalizers());
}

/** A one-shot cleanup callback (Python's `util.Finalize`). */
export class Finalize<A extends unknown[] = unknown[]> {
  readonly #key: number;
  readonly #exitpriority: number | undefined;
  #callback: ((...args: A) => void) | undefined;
  #args: A;

  /**
   * @param obj run the callback when this object is garbage-collected; `null`
   *   for a finalizer that only runs at exit or when called (then
   *   `exitpriority` is required).
   */
  constructor(obj: object | null, callback: (...args: A) => void, options: FinalizeOptions<A> = {}) {
    if (obj === null && options.exitpriority === undefined) {
      throw new TypeError('Finalize without an object needs an exitpriority, or it would never run');
    }
    if (options.exitpriority !== undefined && !Number.isFinite(options.exitpriority)) {
      throw new TypeError(`exitpriority must be a finite number, got ${String(options.exitpriority)}`);
    }
    this.#key = ++counter;
    this.#callback = callback;
    this.#args = (options.args ?? []) as A;
    this.#exitpriority = options.exitpriority;
    registry.set(this.#key, this as unknown as Finalize<unknown[]>);
    if (obj !== null) collected.register(obj, this.#key, this);
    if (this.#exitpriority !== undefined) installExitHook();
  }

  /** The exit priority, or undefined for a finalizer that does not run at exit. */
  get exitpriority(): number | undefined {
    return this.#exitpriority;
  }

  /** Runs the callback if it has not run yet. */
  call(): void {
    const callback = this.#callback;
    const args = this.#args;
    if (!callback) return;
    this.cancel();
    callback(...args);
  }

  /** Drops the finalizer without running it. */
  cancel(): void {
    this.#callback = undefined;
    this.#args = [] as unknown as A;
    registry.delete(this.#key);
    collected.unregister(this);
  }

  /** Whether the callback has neither run nor been cancelled. */
  stillActive(): boolean {
    return this.#callback !== undefined;
  }

  /** Creation order, used to run equal priorities newest first. */
  get order(): number {
    return this.#key;
  }
}

/**
 * Runs the pending finalizers whose exit priority is at least `minpriority`
 * (all prioritised ones if omitted), highest priority first. An error in one
 * does not stop the others; errors are collected and rethrown together.
 */
export function runFinalizers(minpriority?: number): void {
  const due = [...registry.values()]
    .filter((f) => f.exitpriority !== undefined && (minpriority === undefined || f.exitpriority >= minpriority))
    .sort((a, b) => (b.exitpriority! - a.exitpriority!) || b.order - a.order);
  const errors: unknown[] = [];
  for (const finalizer of due) {
    try {
      finalizer.call();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} finalizers failed`);
}

/** How many finalizers are still pending (for leak checks in tests). */
export function pendingFinalizers(): number {
  return registry.size;
}
