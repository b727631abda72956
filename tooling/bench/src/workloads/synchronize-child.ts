/**
 * Targets of the cross-process workloads in synchronize.ts (child processes
 * import this module to find them), and the raw shared counter they use.
 */
import { closeFd, createSharedMemory, mapSharedMemory } from '@mpjs/native';
import { registerType } from '@mpjs/serialization';
// Registers the primitives with the codec, so that this process can decode the ones it is sent.
import '@mpjs/synchronize';
import type { Event, Lock, Semaphore } from '@mpjs/synchronize';

/** How a player waits: promise forms or blocking `*Sync` forms. */
export type Mode = 'sync' | 'async';

/** A few 32-bit words of shared memory that travel to children as a descriptor. */
export class SharedWords {
  readonly view: Int32Array;
  #fd: number;

  constructor(length: number, fd?: number) {
    if (fd === undefined) {
      const block = createSharedMemory(64);
      this.#fd = block.fd;
      this.view = new Int32Array(block.buffer, 0, length);
    } else {
      this.#fd = fd;
      this.view = new Int32Array(mapSharedMemory(fd), 0, length);
    }
  }

  get fd(): number {
    return this.#fd;
  }

  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }
}

registerType<SharedWords>({
  name: 'bench.synchronize.SharedWords',
  type: SharedWords,
  encode: (value, context) => ({ h: context!.handles.push({ fd: value.fd, kind: 'bench-shm' }) - 1, n: value.view.length }),
  decode: (data, context) => {
    const { h, n } = data as { h: number; n: number };
    return new SharedWords(n, context!.handles[h]!.fd);
  },
});

/** Adds 1 to `counter[0]` `n` times under `lock` (a read and a write: racy without the lock), between `start` and `done`. */
export async function incrementer(lock: Lock, counter: SharedWords, n: number, ready: Semaphore, start: Event, done: Semaphore, mode: Mode): Promise<void> {
  const view = counter.view;
  ready.release();
  await start.wait();
  if (mode === 'sync') {
    for (let i = 0; i < n; i++) {
      lock.acquireSync();
      view[0] = view[0]! + 1;
      lock.release();
    }
  } else {
    for (let i = 0; i < n; i++) {
      await lock.acquire();
      view[0] = view[0]! + 1;
      lock.release();
    }
  }
  done.release();
}

/** The other end of the semaphore ping-pong: takes a ping, gives a pong, `rounds` times. */
export async function semaphorePonger(ping: Semaphore, pong: Semaphore, rounds: number, mode: Mode): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    if (mode === 'sync') ping.acquireSync();
    else await ping.acquire();
    pong.release();
  }
}

/** The other end of the Event round trip: waits for `there`, clears it, sets `back`, `rounds` times. */
export async function eventPonger(there: Event, back: Event, rounds: number, mode: Mode): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    if (mode === 'sync') there.waitSync();
    else await there.wait();
    there.clear();
    back.set();
  }
}
