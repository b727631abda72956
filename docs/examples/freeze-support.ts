// The spec's freeze_support() example. freezeSupport() is there for programs ported from
// Python: Node programs are not frozen into Windows executables, so it does nothing.
// Run: node --import tsx docs/examples/freeze-support.ts
import { freezeSupport, Process, runMain } from '@mpjs/process';

// The child imports this module to find `f`: it must be exported.
export function f(): void {
  console.log('hello world!');
}

// Call freezeSupport() first thing in the guarded entry code, as Python does after
// `if __name__ == '__main__':`.
await runMain(import.meta, async () => {
  freezeSupport();
  new Process({ target: f }).start(); // the child prints "hello world!"
  // No join(): as in Python, the program waits for its non-daemonic children before it exits.
});
