// The spec's example of multiprocessing.connection.wait(): messages from four processes at once.
// Run: node --import tsx docs/examples/connection-wait.ts
import { EOFError, Pipe, wait, type Connection } from '@mpjs/connection';
import { Process, currentProcess, runMain } from '@mpjs/process';

// The child imports this module to find `foo`: it must be exported.
export function foo(w: Connection): void {
  for (let i = 0; i < 10; i++) w.send([i, currentProcess().name]);
  w.close();
}

await runMain(import.meta, async () => {
  const readers: Connection[] = [];
  const processes: Process[] = [];

  for (let i = 0; i < 4; i++) {
    const [r, w] = Pipe(false);
    readers.push(r);
    const p = new Process({ target: foo, args: [w] });
    p.start();
    processes.push(p);
    // We close the writable end of the pipe now to be sure that p is the only
    // process which owns a handle for it. This ensures that when p closes its
    // handle for the writable end, wait() will promptly report the readable end
    // as being ready.
    w.close();
  }

  while (readers.length > 0) {
    for (const r of await wait(readers)) {
      try {
        console.log(await r.recv());
      } catch (error) {
        if (!(error instanceof EOFError)) throw error;
        readers.splice(readers.indexOf(r), 1);
        r.close();
      }
    }
  }
  for (const p of processes) await p.join();
});
