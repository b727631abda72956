import { describe, expect, it, jest } from '@jest/globals';
import { checkSignal, Deadline, delay, MAX_TIMER_DELAY, normalizeTimeout, setLongTimeout, TimeoutError, waitArguments, waitFor, withdrawOnAbort, type Settleable } from '../src/index.js';

describe('timeouts', () => {
  it('normalizes milliseconds as Python treats seconds', () => {
    expect(normalizeTimeout(undefined)).toBe(Infinity);
    expect(normalizeTimeout(null)).toBe(Infinity);
    expect(normalizeTimeout(-5)).toBe(0);
    expect(normalizeTimeout(250)).toBe(250);
    expect(() => normalizeTimeout(Number.NaN, 'join timeout')).toThrow(/join timeout must be a number/);
    // A string is shown quoted: `got 1000` would hide what is wrong.
    expect(() => normalizeTimeout('1000' as unknown as number)).toThrow(new TypeError('timeout must be a number of milliseconds or null, got "1000"'));
  });

  it('Deadline counts down', async () => {
    const d = new Deadline(30);
    expect(d.finite).toBe(true);
    expect(d.remaining()).toBeLessThanOrEqual(30);
    await delay(40);
    expect(d.expired()).toBe(true);
    expect(Deadline.never().remaining()).toBe(Infinity);
  });

  it('waitFor rejects with TimeoutError and cancels on expiry', async () => {
    let cancelled = false;
    const never = new Promise<number>(() => undefined);
    await expect(waitFor(never, { timeout: 10, cancel: () => (cancelled = true) })).rejects.toBeInstanceOf(TimeoutError);
    expect(cancelled).toBe(true);
    await expect(waitFor(Promise.resolve(7), { timeout: 10 })).resolves.toBe(7);
  });

  it('waitFor and delay reject with the abort reason', async () => {
    const controller = new AbortController();
    const p = waitFor(new Promise(() => undefined), { signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
    await expect(delay(1000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});

describe('timeouts longer than a Node timer holds', () => {
  /** Collects the process warnings emitted while `body` runs, and for `settle` ms after. */
  async function warningsDuring(body: () => void, settle: number): Promise<Error[]> {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      body();
      await new Promise((resolve) => setTimeout(resolve, settle));
    } finally {
      process.off('warning', onWarning);
    }
    return warnings;
  }

  it('setLongTimeout(3e9) neither fires at once nor warns (a plain setTimeout does both)', async () => {
    let fired = false;
    let timer: ReturnType<typeof setLongTimeout> | undefined;
    const warnings = await warningsDuring(() => {
      timer = setLongTimeout(() => (fired = true), 3e9);
    }, 100);
    timer!.clear();
    expect(fired).toBe(false);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('waitFor and delay with 3e9 ms wait instead of ending after 1 ms', async () => {
    const controller = new AbortController();
    const outcomes: string[] = [];
    const warnings = await warningsDuring(() => {
      waitFor(new Promise(() => undefined), { timeout: 3e9, signal: controller.signal }).catch((e: Error) => outcomes.push(`waitFor: ${e.name}`));
      delay(3e9, controller.signal).then(
        () => outcomes.push('delay resolved'),
        (e: Error) => outcomes.push(`delay: ${e.message}`),
      );
    }, 100);
    expect(outcomes).toEqual([]);
    expect(warnings).toEqual([]);
    controller.abort(new Error('stop'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomes.sort()).toEqual(['delay: stop', 'waitFor: Error']);
  });

  it('chains timers until the whole delay has passed, and can be cleared between links', () => {
    jest.useFakeTimers();
    try {
      let fired = 0;
      setLongTimeout(() => fired++, 2 * MAX_TIMER_DELAY + 10);
      jest.advanceTimersByTime(MAX_TIMER_DELAY);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(MAX_TIMER_DELAY);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(9);
      expect(fired).toBe(0);
      jest.advanceTimersByTime(1);
      expect(fired).toBe(1);

      const cleared = setLongTimeout(() => fired++, MAX_TIMER_DELAY + 5);
      jest.advanceTimersByTime(MAX_TIMER_DELAY);
      cleared.clear();
      jest.advanceTimersByTime(10);
      expect(fired).toBe(1);

      setLongTimeout(() => fired++, Infinity);
      expect(jest.getTimerCount()).toBe(0);
      setLongTimeout(() => fired++, -5);
      jest.advanceTimersByTime(0);
      expect(fired).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('can let the event loop end while it waits (ref(false))', async () => {
    const { spawnSync } = await import('node:child_process');
    const entry = new URL('../dist/index.js', import.meta.url).href;
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { setLongTimeout } from ${JSON.stringify(entry)}; setLongTimeout(() => console.log('fired'), 3e9).ref(false); console.log('end');`],
      { encoding: 'utf8', timeout: 10_000 },
    );
    expect(r.stdout).toBe('end\n');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('waitArguments', () => {
  it('takes the timeout first or inside the options, with the signal in the options', () => {
    const { signal } = new AbortController();
    expect(waitArguments('f', undefined, undefined)).toEqual({ ms: Infinity, signal: undefined });
    expect(waitArguments('f', 250, { signal })).toEqual({ ms: 250, signal });
    expect(waitArguments('f', null, { signal })).toEqual({ ms: Infinity, signal });
    expect(waitArguments('f', { timeout: -3, signal })).toEqual({ ms: 0, signal });
    expect(waitArguments('f', { signal })).toEqual({ ms: Infinity, signal });
    expect(waitArguments('f', undefined, {}, 0)).toEqual({ ms: 0, signal: undefined });
    // The fallback stands in for a missing timeout only: null is still "forever".
    expect(waitArguments('f', null, undefined, 0)).toEqual({ ms: Infinity, signal: undefined });
    expect(waitArguments('f', { timeout: null }, undefined, 0)).toEqual({ ms: Infinity, signal: undefined });
  });

  it('says what is wrong with bad arguments', () => {
    expect(() => waitArguments('p.join', 'soon' as unknown as number, undefined)).toThrow(/^p\.join: "timeout" must be a number of milliseconds/);
    expect(() => waitArguments('p.join', 5, 'x' as never)).toThrow(/p\.join: options must be an object such as \{ signal \}, got "x"/);
    expect(() => waitArguments('p.join', 5, { signal: {} as AbortSignal })).toThrow(/"signal" must be an AbortSignal/);
    expect(() => waitArguments('p.join', { timeout: 5 }, {})).toThrow(/give the options once/);
    expect(() => checkSignal('f', 'abort')).toThrow(TypeError);
    expect(checkSignal('f', null)).toBeUndefined();
  });
});

describe('withdrawOnAbort', () => {
  function waiterIn(waiters: Settleable<number>[]): { waiter: Settleable<number>; settled: Promise<number> } {
    let waiter!: Settleable<number>;
    const settled = new Promise<number>((resolve, reject) => (waiter = { resolve, reject }));
    waiters.push(waiter);
    return { waiter, settled };
  }

  it('takes an aborted waiter out of the list, calls onLeave, and rejects with the reason', async () => {
    const waiters: Settleable<number>[] = [];
    const other = waiterIn(waiters);
    const { waiter, settled } = waiterIn(waiters);
    const controller = new AbortController();
    let left = 0;
    withdrawOnAbort(waiters, waiter, controller.signal, () => left++);
    controller.abort(new Error('given up'));
    await expect(settled).rejects.toThrow('given up');
    expect(waiters).toEqual([other.waiter]);
    expect(left).toBe(1);
  });

  it('leaves a waiter that was served alone, and stops listening once it settles', async () => {
    const waiters: Settleable<number>[] = [];
    const { waiter, settled } = waiterIn(waiters);
    const controller = new AbortController();
    let left = 0;
    withdrawOnAbort(waiters, waiter, controller.signal, () => left++);
    waiters.shift()!.resolve(7);
    controller.abort();
    expect(await settled).toBe(7);
    expect(left).toBe(0);
  });
});
