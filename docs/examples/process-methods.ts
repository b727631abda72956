// The spec's example of some of the methods of Process (start, isAlive, terminate, exitcode).
// Run: node --import tsx docs/examples/process-methods.ts
import { constants } from 'node:os';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { Process, runMain } from '@mpjs/process';

// Python's `time.sleep` (seconds). A target must be an exported function of a module the child
// can import, so the example defines it instead of passing a built-in.
export async function sleep(seconds: number): Promise<void> {
  await sleepMs(seconds * 1000);
}

await runMain(import.meta, async () => {
  const p = new Process({ target: sleep, args: [1000] });
  console.log(p, p.isAlive()); // prints "<Process name='Process-1' parent=… initial> false"
  p.start();
  console.log(p, p.isAlive()); // prints "<Process name='Process-1' pid=… parent=… started> true"
  p.terminate();
  await sleepMs(100); // time.sleep(0.1)
  console.log(p, p.isAlive()); // prints "<Process name='Process-1' pid=… parent=… stopped exitcode=-SIGTERM> false"
  console.log(p.exitcode === -constants.signals.SIGTERM); // prints "true"
});
