/**
 * `wait()`: Python's `multiprocessing.connection.wait`, the `select()` of
 * connections. It watches Connections, `net.Socket`s and any `Waitable`
 * (process sentinels implement it) and returns those that are ready.
 */
import type net from 'node:net';
import {
  delay,
  isWaitable,
  lazyBuiltin,
  setLongTimeout,
  ValueError,
  waitArguments,
  waitReady,
  type AbortOptions,
  type LongTimer,
  type Timeout,
  type TimeoutOptions,
  type Waitable,
} from '@mpjs/util';

/** `node:net`, loaded only when a socket is given: connections need no Node stream. */
const netModule = lazyBuiltin<typeof import('node:net')>('node:net');

/** What `wait()` accepts: a Connection (it is a Waitable), a `net.Socket`, or any Waitable. */
export type WaitObject = Waitable | net.Socket;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Resolves when a socket has data to read or its other end closed. */
function socketReady(socket: net.Socket, signal: AbortSignal): Promise<void> {
  if (socket.readableLength > 0 || socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const events = ['readable', 'end', 'close', 'error'] as const;
    const cleanup = (): void => {
      for (const event of events) socket.off(event, onReady);
      signal.removeEventListener('abort', onAbort);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onAbort = (): void => {
      cleanup();
      reject(signal.reason);
    };
    for (const event of events) socket.on(event, onReady);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function readiness(object: WaitObject, signal: AbortSignal): Promise<void> {
  if (isWaitable(object)) return object[waitReady](signal);
  if (object instanceof netModule().Socket) return socketReady(object as net.Socket, signal);
  return Promise.reject(
    new TypeError(`wait() accepts Connections, net.Sockets and Waitables (e.g. a process sentinel), got ${typeof object}`),
  );
}

/**
 * Waits until at least one of `objects` is ready and returns the ready ones,
 * in their original order. A Connection or socket is ready when it has data to
 * read or its other end closed; a `Waitable` when its `[waitReady]` resolves.
 * `timeout` is in ms: `undefined`/`null` waits forever, negative means 0, and
 * on expiry the result is `[]`; it may also be given in the options
 * (`wait(objects, { timeout, signal })`). Aborting `signal` rejects with
 * `signal.reason`. Nothing stays attached to the objects after it returns.
 */
export async function wait<T extends WaitObject>(
  objects: Iterable<T>,
  timeout?: Timeout | TimeoutOptions,
  options?: AbortOptions,
): Promise<T[]> {
  const list = [...objects];
  const { ms, signal } = waitArguments('wait', timeout, options);
  if (signal?.aborted) throw signal.reason;
  if (list.length === 0) {
    if (ms === Infinity && !signal) throw new ValueError('wait() was given no objects and no timeout, so it would wait forever');
    await delay(ms, signal);
    return [];
  }
  const controller = new AbortController();
  const ready = new Set<T>();
  let failure: { error: unknown } | undefined;
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((resolve) => (wake = resolve));
  // The caller's abort ends the wait (and then rejects with its reason).
  const onAbort = (): void => wake();
  for (const object of list) {
    readiness(object, controller.signal).then(
      () => {
        ready.add(object);
        wake();
      },
      (error: unknown) => {
        if (controller.signal.aborted && error === controller.signal.reason) return;
        failure ??= { error };
        wake();
      },
    );
  }
  let timer: LongTimer | undefined;
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (ms === 0) {
      // Connections ask the kernel at once; one turn of the event loop lets the other objects report.
      await nextTurn();
    } else {
      const expired = ms === Infinity ? undefined : new Promise<void>((resolve) => (timer = setLongTimeout(resolve, ms)));
      await (expired ? Promise.race([woken, expired]) : woken);
      // Let the other objects that are ready by now report it too.
      if (ready.size > 0 && !signal?.aborted) await nextTurn();
    }
  } finally {
    timer?.clear();
    signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
  if (signal?.aborted) throw signal.reason;
  if (failure && ready.size === 0) throw failure.error;
  return list.filter((object) => ready.has(object));
}
