import { describe, expect, it } from '@jest/globals';
import { POLL_MICROS, WordPoller } from '../src/index.js';

describe('WordPoller', () => {
  it('returns true at once when the word differs, and as soon as it changes (here, while it yields the CPU)', () => {
    const view = new Int32Array(new SharedArrayBuffer(8));
    view[0] = 1;
    let yields = 0;
    const poller = new WordPoller(() => {
      yields++;
      Atomics.store(view, 1, 5);
    });
    // Also compiles the loop, so the poll below is not slower than its budget.
    for (let i = 0; i < 1000; i++) expect(poller.whileEqual(view, 0, 0)).toBe(true);
    expect(yields).toBe(0);
    expect(poller.whileEqual(view, 1, 0)).toBe(true);
    expect(yields).toBe(1);
  });

  it('gives up after the budget, then skips the next waits (back-off), and polls again after a hit', () => {
    expect(POLL_MICROS).toBeGreaterThan(0);
    const view = new Int32Array(new SharedArrayBuffer(4));
    let yields = 0;
    const poller = new WordPoller(() => yields++);
    const t0 = performance.now();
    expect(poller.whileEqual(view, 0, 0)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(POLL_MICROS / 1000);
    expect(yields).toBeGreaterThan(0);
    // Second miss in a row: the wait after it skips polling altogether.
    expect(poller.whileEqual(view, 0, 0)).toBe(false);
    const before = yields;
    expect(poller.whileEqual(view, 0, 0)).toBe(false);
    expect(yields).toBe(before);
    // A changed word is a hit even while skipping is over: polling starts over.
    view[0] = 1;
    expect(poller.whileEqual(view, 0, 0)).toBe(true);
  });

  it('never polls past `end`', () => {
    const view = new Int32Array(new SharedArrayBuffer(4));
    let yields = 0;
    const poller = new WordPoller(() => yields++);
    expect(poller.whileEqual(view, 0, 0, performance.now() - 1)).toBe(false);
    expect(yields).toBe(0);
  });
});
