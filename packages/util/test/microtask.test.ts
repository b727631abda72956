import { describe, expect, it } from '@jest/globals';
import { createHook } from 'node:async_hooks';
import { enqueueMicrotask } from '../src/index.js';

describe('enqueueMicrotask', () => {
  it('runs after the current code, in order with the microtasks queued around it, before a timer', async () => {
    const order: string[] = [];
    setTimeout(() => order.push('timer'), 0);
    enqueueMicrotask(() => order.push('first'));
    queueMicrotask(() => order.push('queueMicrotask'));
    void Promise.resolve().then(() => order.push('then'));
    enqueueMicrotask(() => order.push('last'));
    order.push('sync');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(order).toEqual(['sync', 'first', 'queueMicrotask', 'then', 'last', 'timer']);
  });

  it('makes no async resource, where queueMicrotask makes one per call', async () => {
    const created: string[] = [];
    const hook = createHook({ init: (_id, type) => void created.push(type) }).enable();
    try {
      for (let i = 0; i < 10; i++) queueMicrotask(() => undefined);
      await Promise.resolve();
      const byQueueMicrotask = created.filter((type) => type === 'Microtask').length;
      created.length = 0;
      for (let i = 0; i < 10; i++) enqueueMicrotask(() => undefined);
      await Promise.resolve();
      expect(byQueueMicrotask).toBe(10);
      expect(created.filter((type) => type === 'Microtask')).toEqual([]);
    } finally {
      hook.disable();
    }
  });
});
