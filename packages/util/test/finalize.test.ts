import { describe, expect, it } from '@jest/globals';
import { Finalize, pendingFinalizers, runFinalizers } from '../src/index.js';

describe('Finalize', () => {
  it('runs exit finalizers by descending priority, newest first among equals, once each', () => {
    const order: string[] = [];
    new Finalize(null, (x: string) => order.push(x), { args: ['low'], exitpriority: 1 });
    new Finalize(null, (x: string) => order.push(x), { args: ['high-old'], exitpriority: 10 });
    new Finalize(null, (x: string) => order.push(x), { args: ['high-new'], exitpriority: 10 });
    runFinalizers(5);
    expect(order).toEqual(['high-new', 'high-old']);
    runFinalizers();
    runFinalizers();
    expect(order).toEqual(['high-new', 'high-old', 'low']);
  });

  it('can be called or cancelled explicitly', () => {
    let runs = 0;
    const f = new Finalize({}, () => runs++);
    expect(f.stillActive()).toBe(true);
    f.call();
    f.call();
    expect(runs).toBe(1);
    expect(f.stillActive()).toBe(false);
    const g = new Finalize(null, () => runs++, { exitpriority: 0 });
    g.cancel();
    runFinalizers();
    expect(runs).toBe(1);
  });

  it('runs when its object is garbage-collected', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) {
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      (globalThis as { gc?: () => void }).gc = runInNewContext('gc') as () => void;
    }
    let ran = false;
    const before = pendingFinalizers();
    (() => {
      new Finalize({ big: new Array(1000).fill(0) }, () => (ran = true));
    })();
    for (let i = 0; i < 20 && !ran; i++) {
      (globalThis as unknown as { gc: () => void }).gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(ran).toBe(true);
    expect(pendingFinalizers()).toBe(before);
  });

  it('refuses a finalizer that could never run', () => {
    expect(() => new Finalize(null, () => undefined)).toThrow(/needs an exitpriority/);
  });
});
