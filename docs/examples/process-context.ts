// Several start methods in one program through context objects (spec: "Contexts and start methods").
// A library that needs a particular start method uses getContext() and leaves the default alone.
// Run: node --import tsx docs/examples/process-context.ts
import { getContext, runMain } from '@mpjs/process';

export function foo(method: string): void {
  console.log(`hello from a ${method} child`);
}

await runMain(import.meta, async () => {
  for (const method of ['spawn', 'forkserver'] as const) {
    const ctx = getContext(method);
    const p = ctx.Process({ target: foo, args: [method] });
    p.start();
    await p.join();
    console.log(`${ctx.getStartMethod()}: exit code ${p.exitcode}`);
  }
  // The forkserver's idle warm interpreters stop on their own when the program ends.
});
