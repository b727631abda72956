import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { runFixture, spawnFixture, collect } from '@mpjs/test-utils';
import { closeFd, createSharedMemory, futexBackend, futexWait, futexWaitAsync, futexWake } from '../src/index.js';
import { fixture, isSettled, waitForLine, wakeUntil } from './helpers.js';
import { play } from './fixtures/ping-pong.js';

function sharedView(words = 16): Int32Array {
  return new Int32Array(new SharedArrayBuffer(words * 4));
}

/** Anonymous shared memory with its fd, for handing to a child as fd 3. */
function sharedBlock(bytes = 4096): { fd: number; view: Int32Array } {
  const block = createSharedMemory(bytes);
  return { fd: block.fd, view: new Int32Array(block.buffer) };
}

describe('futexWait (blocking)', () => {
  it("returns 'not-equal' at once when the word differs", () => {
    const view = sharedView();
    Atomics.store(view, 3, 7);
    const start = performance.now();
    expect(futexWait(view, 3, 8, 5_000)).toBe('not-equal');
    expect(performance.now() - start).toBeLessThan(1_000);
  });

  it("times out after the timeout with 'timed-out'", () => {
    const view = sharedView();
    const start = performance.now();
    expect(futexWait(view, 0, 0, 80)).toBe('timed-out');
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(75);
    expect(elapsed).toBeLessThan(580);
  });

  it('treats a negative timeout as "do not wait" and compares 32-bit patterns', () => {
    const view = sharedView();
    expect(futexWait(view, 0, 0, -1)).toBe('timed-out');
    Atomics.store(view, 1, -1);
    expect(futexWait(view, 1, 0xffffffff, 0)).toBe('timed-out'); // same bits as -1
  });
});

describe('futexWaitAsync', () => {
  it('waits through io_uring where the kernel supports it (Linux 6.7+), else on native threads', () => {
    const [major = 0, minor = 0] = release().split('.').map(Number);
    let disabled = '1';
    try {
      disabled = readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
    } catch {
      disabled = '0'; // no such switch: io_uring is on
    }
    const capable = (major > 6 || (major === 6 && minor >= 7)) && disabled === '0';
    expect(futexBackend()).toBe(capable ? 'io_uring' : 'threads');
  });

  it("resolves 'not-equal' at once when the word differs", async () => {
    const view = sharedView();
    Atomics.store(view, 0, 1);
    await expect(futexWaitAsync(view, 0, 0, { timeout: 5_000 })).resolves.toBe('not-equal');
  });

  it("resolves 'timed-out' after the timeout, without blocking timers", async () => {
    const view = sharedView();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 10);
    const start = performance.now();
    const result = await futexWaitAsync(view, 0, 0, { timeout: 150 });
    const elapsed = performance.now() - start;
    clearInterval(interval);
    expect(result).toBe('timed-out');
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(650);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it("resolves 'ok' when woken, and futexWake counts exactly the waiters it woke", async () => {
    const view = sharedView();
    const waits = [0, 1, 2].map(() => futexWaitAsync(view, 5, 0, { timeout: 10_000 }));
    expect(await wakeUntil(view, 5, 2)).toBe(2);
    await new Promise((r) => setTimeout(r, 50));
    const done = await Promise.all(waits.map((w) => isSettled(w)));
    expect(done.filter(Boolean)).toHaveLength(2);
    expect(await wakeUntil(view, 5, 1)).toBe(1);
    await expect(Promise.all(waits)).resolves.toEqual(['ok', 'ok', 'ok']);
    expect(futexWake(view, 5)).toBe(0);
  });

  it('wakes the same word through views with different offsets', async () => {
    const buffer = new SharedArrayBuffer(64);
    const whole = new Int32Array(buffer);
    const part = new Int32Array(buffer, 8, 4); // part[1] is whole[3]
    const wait = futexWaitAsync(part, 1, 0, { timeout: 10_000 });
    expect(await wakeUntil(whole, 3, 1)).toBe(1);
    await expect(wait).resolves.toBe('ok');
    expect(futexWake(whole, 2)).toBe(0);
  });

  it('rejects with signal.reason promptly on abort, even if nobody wakes the word', async () => {
    const view = sharedView();
    const controller = new AbortController();
    const reason = new Error('no longer needed');
    const wait = futexWaitAsync(view, 0, 0, { timeout: 20_000, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    const start = performance.now();
    await expect(wait).rejects.toBe(reason);
    expect(performance.now() - start).toBeLessThan(2_000);
  });

  it('rejects at once with the reason of an already aborted signal', async () => {
    const view = sharedView();
    await expect(futexWaitAsync(view, 0, 0, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
  });

  it('an aborted wait passes on a wake-up that reached it first', async () => {
    const view = sharedView();
    const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 25));
    for (let round = 0; round < 3; round++) {
      const controller = new AbortController();
      const reason = new Error(`abort ${round}`);
      const aborted = futexWaitAsync(view, 0, 0, { signal: controller.signal }).catch((e: unknown) => e);
      await pause();
      const other = futexWaitAsync(view, 0, 0, { timeout: 3_000 });
      await pause();
      // Waiters queue in order: this wakes the first one, which is then aborted.
      expect(futexWake(view, 0, 1)).toBe(1);
      controller.abort(reason);
      await expect(aborted).resolves.toBe(reason);
      await expect(other).resolves.toBe('ok');
    }
  });

  it.each([
    ['default', {}],
    ['threads', { MPJS_FUTEX_BACKEND: 'threads' }],
  ])('keeps timers and the libuv pool responsive with 1000 waits pending (%s backend)', async (_label, extra) => {
    const result = await runFixture(fixture('many-waits.ts'), { args: ['1000'], env: { ...process.env, ...extra } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { ticks, poolMs, woken, ok } = JSON.parse(result.stdout) as Record<string, number>;
    expect(ok).toBe(1000);
    expect(woken).toBe(1000);
    expect(ticks).toBeGreaterThanOrEqual(15); // 10 ms interval over 300 ms
    expect(poolMs).toBeLessThan(5_000);
  });
});

// Children wait with the default async backend (io_uring where the kernel has
// it) and with the native thread cache; both must behave the same.
const backends: [string, NodeJS.ProcessEnv][] = [
  ['default', { ...process.env }],
  ['threads', { ...process.env, MPJS_FUTEX_BACKEND: 'threads' }],
];

describe.each(backends)('futex across processes (%s backend in children)', (label, env) => {
  it('waits, wakes, counts, times out and aborts as specified', async () => {
    const r = await runFixture(fixture('futex-semantics.ts'), { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      backend: label === 'threads' ? 'threads' : futexBackend(),
      firstWake: 2,
      settledAfterTwo: 2,
      secondWake: 1,
      results: ['ok', 'ok', 'ok'],
      timedOut: 'timed-out',
      abortedWith: true,
      forwarded: 3,
    });
    expect(result.timeoutMs).toBeGreaterThanOrEqual(95);
    expect(result.timeoutMs).toBeLessThan(600);
    expect(result.abortMs).toBeLessThan(500);
  });


  it('4 processes doing 250,000 Atomics.add each on memfd memory end at exactly 1,000,000', async () => {
    const { fd, view } = sharedBlock();
    try {
      const children = [0, 1, 2, 3].map(() =>
        spawnFixture(fixture('atomic-adder.ts'), { args: ['250000'], env, stdio: ['ignore', 'pipe', 'pipe', fd] }),
      );
      const results = children.map((child) => collect(child));
      // Start them together, once all are mapped.
      while (Atomics.load(view, 2) < 4) {
        const seen = Atomics.load(view, 2);
        await futexWaitAsync(view, 2, seen, { timeout: 100 });
      }
      Atomics.store(view, 1, 1);
      futexWake(view, 1);
      for (const r of await Promise.all(results)) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      expect(Atomics.load(view, 0)).toBe(1_000_000);
    } finally {
      closeFd(fd);
    }
  });

  it('ping-pongs 2000 rounds: this process waits async, the child blocks', async () => {
    const { fd, view } = sharedBlock();
    try {
      const child = spawnFixture(fixture('ping-pong.ts'), { args: ['1', '2000', 'sync'], env, stdio: ['ignore', 'pipe', 'pipe', fd] });
      const result = collect(child);
      await play(view, 0, 2000, 'async');
      const r = await result;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('done 4000');
      expect(Atomics.load(view, 0)).toBe(4000);
    } finally {
      closeFd(fd);
    }
  });

  it('ping-pongs 2000 rounds: this process blocks, the child waits async', async () => {
    const { fd, view } = sharedBlock();
    try {
      const child = spawnFixture(fixture('ping-pong.ts'), { args: ['1', '2000', 'async'], env, stdio: ['ignore', 'pipe', 'pipe', fd] });
      const result = collect(child);
      await play(view, 0, 2000, 'sync');
      const r = await result;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe('done 4000');
    } finally {
      closeFd(fd);
    }
  });

  it('a pending async wait keeps a process alive until another process wakes it', async () => {
    const { fd, view } = sharedBlock();
    try {
      const child = spawnFixture(fixture('keep-alive.ts'), { args: ['wake'], env, stdio: ['ignore', 'pipe', 'pipe', fd] });
      const result = collect(child);
      await waitForLine(child, /^waiting$/);
      await new Promise((r) => setTimeout(r, 300));
      expect(child.exitCode).toBeNull();
      Atomics.store(view, 0, 1);
      expect(await wakeUntil(view, 0, 1)).toBe(1);
      const r = await result;
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('waiting\nok\n');
    } finally {
      closeFd(fd);
    }
  });

  it.each([
    ['abort', 'aborted with reason\n'],
    ['timeout', 'timed-out\n'],
  ])('a process whose wait ended (%s) exits on its own', async (mode, output) => {
    const r = await runFixture(fixture('keep-alive.ts'), { args: [mode], env, timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(output);
    expect(r.code).toBe(0);
  });

  it('process.exit() with waits pending exits cleanly', async () => {
    const r = await runFixture(fixture('keep-alive.ts'), { args: ['exit'], env, timeout: 10_000 });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(7);
  });
});

describe.each(backends)('futex in worker threads (%s backend)', (_label, env) => {
  it('workers wait async and the main thread wakes them', async () => {
    const r = await runFixture(fixture('workers.ts'), { args: ['wake'], env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ woken: [1, 1, 1], results: ['ok', 'ok', 'ok'], codes: [0, 0, 0] });
  });

  it('workers that end with waits pending (return, process.exit, terminate) do not crash or hang', async () => {
    const r = await runFixture(fixture('workers.ts'), { args: ['exit-pending'], env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ codes: [0, 0, 1], after: 'ok', woken: 1 });
  });
});

describe('futex argument checks', () => {
  const view = sharedView(4);

  it('refuses a view over memory that is not shared', () => {
    const local = new Int32Array(4);
    expect(() => futexWait(local, 0, 0, 0)).toThrow(TypeError);
    expect(() => futexWait(local, 0, 0, 0)).toThrow(/"view" must be an Int32Array over a SharedArrayBuffer/);
    expect(() => futexWake(local, 0)).toThrow(/SharedArrayBuffer/);
  });

  it('refuses views that are not Int32Array', () => {
    const u32 = new Uint32Array(new SharedArrayBuffer(16));
    // @ts-expect-error: a Uint32Array is not an Int32Array
    expect(() => futexWait(u32, 0, 0, 0)).toThrow(/got an instance of Uint32Array/);
    // @ts-expect-error: not a typed array
    expect(() => futexWake([1, 2], 0)).toThrow(TypeError);
  });

  it('refuses misaligned and out-of-range indexes', () => {
    expect(() => futexWait(view, 0.5, 0, 0)).toThrow(RangeError);
    expect(() => futexWait(view, 0.5, 0, 0)).toThrow(/4-byte aligned/);
    expect(() => futexWait(view, -1, 0, 0)).toThrow(/"index" must be from 0 to 3/);
    expect(() => futexWake(view, 4)).toThrow(RangeError);
    expect(() => futexWake(new Int32Array(new SharedArrayBuffer(0)), 0)).toThrow(/empty/);
    // @ts-expect-error: index must be a number
    expect(() => futexWake(view, '0')).toThrow(TypeError);
  });

  it('refuses bad expected values, timeouts and counts', () => {
    expect(() => futexWait(view, 0, 2 ** 32, 0)).toThrow(/"expected" must be a 32-bit integer/);
    expect(() => futexWait(view, 0, 1.5, 0)).toThrow(RangeError);
    // @ts-expect-error: timeout must be a number
    expect(() => futexWait(view, 0, 0, '10')).toThrow(/"timeout" must be a number of milliseconds/);
    expect(() => futexWake(view, 0, -1)).toThrow(/"count" must be an integer from 0/);
    expect(futexWake(view, 0, 0)).toBe(0);
  });

  it('futexWaitAsync rejects (never throws) on bad arguments', async () => {
    const local = new Int32Array(4);
    const pending = futexWaitAsync(local, 0, 0);
    await expect(pending).rejects.toThrow(TypeError);
    await expect(futexWaitAsync(view, 9, 0)).rejects.toThrow(RangeError);
    // @ts-expect-error: signal must be an AbortSignal
    await expect(futexWaitAsync(view, 0, 0, { signal: {} })).rejects.toThrow(/"signal" must be an AbortSignal/);
  });
});
