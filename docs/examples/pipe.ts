// The spec's Pipe example ("Exchanging objects between processes": Pipes).
// Run: node --import tsx docs/examples/pipe.ts
import { Pipe, type Connection } from '@mpjs/connection';
import { Process, runMain } from '@mpjs/process';

// The child imports this module to find `f`: it must be exported.
export function f(conn: Connection): void {
  conn.send([42, null, 'hello']);
  conn.close();
}

await runMain(import.meta, async () => {
  const [parentConn, childConn] = Pipe();
  const p = new Process({ target: f, args: [childConn] });
  p.start();
  console.log(await parentConn.recv()); // prints "[ 42, null, 'hello' ]"
  await p.join();
});
