import { afterAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@mpjs/test-utils';
import { ctx, stopAndCheck } from './helpers.js';
import { Condition, Event, Lock, Semaphore } from '../src/index.js';
import { releaseTimes, setLater } from './fixtures/targets.js';

afterAll(async () => {
  expect(await stopAndCheck()).toBe(true);
});

describe('many async waiters in one process', () => {
  it('500 waiters on an Event and 500 on a Semaphore, woken by another process, while timers keep firing', async () => {
    const event = new Event();
    const sem = new Semaphore(0);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const eventWaits = Array.from({ length: 500 }, () => event.wait(30_000));
    const semWaits = Array.from({ length: 500 }, () => sem.acquire({ timeout: 30_000 }));
    await sleep(200);
    const ticksWhileWaiting = ticks;
    const setter = ctx.Process({ target: setLater, args: [event, 0] });
    const releaser = ctx.Process({ target: releaseTimes, args: [sem, 500] });
    setter.start();
    releaser.start();
    expect(await Promise.all(eventWaits)).toEqual(Array(500).fill(true));
    expect(await Promise.all(semWaits)).toEqual(Array(500).fill(true));
    clearInterval(timer);
    await Promise.all([setter.join(), releaser.join()]);
    expect([setter.exitcode, releaser.exitcode]).toEqual([0, 0]);
    expect(sem.getValue()).toBe(0);
    // The event loop was free: a 5 ms timer fired during the 200 ms of waiting (loosely: at least 5 times).
    expect(ticksWhileWaiting).toBeGreaterThanOrEqual(5);
  });

  it('300 async tasks contending for a Lock, and 300 waiting on a Condition, all get through', async () => {
    const lock = new Lock();
    let counter = 0;
    await Promise.all(
      Array.from({ length: 300 }, async () => {
        await lock.acquire();
        const v = counter;
        await new Promise(setImmediate);
        counter = v + 1;
        lock.release();
      }),
    );
    expect(counter).toBe(300);

    const cond = new Condition(new Lock());
    let arrived = 0;
    let woken = 0;
    const waiters = Array.from({ length: 300 }, async () => {
      await cond.acquire();
      try {
        arrived++;
        if (await cond.wait(30_000)) woken++;
      } finally {
        cond.release();
      }
    });
    expect(await eventually(() => arrived === 300, 20_000)).toBe(true);
    await cond.acquire();
    cond.notify(100);
    cond.release();
    expect(await eventually(() => woken === 100, 20_000)).toBe(true);
    await sleep(100);
    expect(woken).toBe(100);
    await cond.acquire();
    cond.notifyAll();
    cond.release();
    await Promise.all(waiters);
    expect(woken).toBe(300);
  });
});
