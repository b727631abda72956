// The process ids involved, from the Process class section of the spec.
// Run: node --import tsx docs/examples/process-info.ts
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainModule, Process, runMain } from '@mpjs/process';

export function info(title: string): void {
  console.log(title);
  // Python prints __name__: '__main__' in the program, '__mp_main__' where a child imported it.
  const name = basename(fileURLToPath(import.meta.url));
  console.log('module name:', isMainModule(import.meta) ? `${name} (main)` : `${name} (imported)`);
  console.log('parent process:', process.ppid);
  console.log('process id:', process.pid);
}

export function f(name: string): void {
  info('function f');
  console.log('hello', name);
}

await runMain(import.meta, async () => {
  info('main line');
  const p = new Process({ target: f, args: ['bob'] });
  p.start();
  await p.join();
});
