// The spec's Namespace doctest: a namespace held by a manager, and an attribute of the proxy itself.
// Run: node --import tsx docs/examples/manager-namespace.ts
import { runMain } from '@mpjs/process';
import { Manager, type NamespaceProxy } from '@mpjs/managers';

await runMain(import.meta, async () => {
  await using manager = await Manager();
  // A proxy cannot intercept `Global.x = 10` (that would have to be a synchronous round trip to
  // the server), so attributes of the referent go through get() and set().
  const Global: NamespaceProxy & { _z?: number } = await manager.Namespace();
  await Global.set('x', 10);
  await Global.set('y', 'hello');
  Global._z = 12.3; // this is an attribute of the proxy, as in Python: the referent never sees it
  console.log(await Global.toString()); // prints "Namespace(x=10, y='hello')"
  console.log(await Global.has('_z'), Global._z); // prints "false 12.3"
});
