// Python's Lock example (synchronization between processes): ten processes
// print in turn, so their lines never get mixed up.
// Run: node --import tsx docs/examples/lock.ts
import { Process, runMain } from '@mpjs/process';
import { Lock } from '@mpjs/synchronize';

// Each child imports this module to find `f`: it must be exported.
export async function f(l: Lock, i: number): Promise<void> {
  await l.acquire();
  try {
    console.log('hello world', i);
  } finally {
    l.release();
  }
}

// Python's `if __name__ == '__main__':` — children import this module without running this part.
await runMain(import.meta, async () => {
  const lock = new Lock();
  for (let num = 0; num < 10; num++) {
    new Process({ target: f, args: [lock, num] }).start();
  }
});
