import { describe, expect, it } from '@jest/globals';
import { Deadline, delay, normalizeTimeout, TimeoutError, waitFor } from '../src/index.js';

describe('timeouts', () => {
  it('normalizes milliseconds as Python treats seconds', () => {
    expect(normalizeTimeout(undefined)).toBe(Infinity);
    expect(normalizeTimeout(null)).toBe(Infinity);
    expect(normalizeTimeout(-5)).toBe(0);
    expect(normalizeTimeout(250)).toBe(250);
    expect(() => normalizeTimeout(Number.NaN, 'join timeout')).toThrow(/join timeout must be a number/);
    expect(() => normalizeTimeout('1' as unknown as number)).toThrow(TypeError);
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
