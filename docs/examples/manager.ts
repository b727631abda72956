// The spec's Manager example ("Sharing state between processes", server process).
// Run: node --import tsx docs/examples/manager.ts
import { Process, runMain } from '@mpjs/process';
import { Manager, type DictProxy, type ListProxy } from '@mpjs/managers';

// The child imports this module to find `f`: it must be exported.
export async function f(d: DictProxy, l: ListProxy<number>): Promise<void> {
  await d.set(1, '1');
  await d.set('2', 2);
  await d.set(0.25, null);
  await l.reverse();
}

await runMain(import.meta, async () => {
  await using manager = await Manager();
  const d = await manager.dict();
  const l = await manager.list([...Array(10).keys()]);

  const p = new Process({ target: f, args: [d, l] });
  p.start();
  await p.join();

  console.log(await d.toString()); // prints "{1: '1', '2': 2, 0.25: null}"
  console.log(await l.toString()); // prints "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]"
});
