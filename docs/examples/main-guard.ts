// The spec's programming guideline "Safe importing of main module": the entry code is guarded,
// so a child can import this module (to find `foo`) without starting processes itself.
// Run: node --import tsx docs/examples/main-guard.ts
// The unsafe form, which starts a Process at the top level of the module, is what Python's
// guideline warns against: there the child refuses to start another process and fails with
// an error explaining the guard (see the fixture packages/process/test/fixtures/unguarded-main.ts).
import { freezeSupport, Process, runMain, setStartMethod } from '@mpjs/process';

// The child imports this module to find `foo`: it must be exported.
export function foo(): void {
  console.log('hello');
}

// Python's `if __name__ == '__main__':`.
await runMain(import.meta, async () => {
  freezeSupport(); // does nothing in Node; kept from Python's guideline
  setStartMethod('spawn');
  const p = new Process({ target: foo });
  p.start(); // the child prints "hello"
});
