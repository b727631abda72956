// Choosing the start method once, in the program's entry code (spec: "Contexts and start methods").
// Python's example passes a Queue; here the child answers through its exit code
// and its output, so the example needs nothing but @mpjs/process.
// Run: node --import tsx docs/examples/process-start-method.ts
import { getStartMethod, Process, runMain, setStartMethod } from '@mpjs/process';

export function foo(greeting: string): void {
  console.log(greeting);
}

await runMain(import.meta, async () => {
  setStartMethod('spawn');
  const p = new Process({ target: foo, args: ['hello'] });
  p.start();
  await p.join();
  console.log(`start method ${getStartMethod()}, exit code ${p.exitcode}`);
});
