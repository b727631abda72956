// The spec's doctests of "Proxy Objects": str and repr of a proxy, indexing and slicing,
// proxies nested in shared objects, re-assigning a mutated item, comparisons, and _callmethod.
// Run: node --import tsx docs/examples/manager-proxies.ts
import { inspect, isDeepStrictEqual } from 'node:util';
import { runMain } from '@mpjs/process';
import { Manager, type DictProxy, type ListProxy } from '@mpjs/managers';

await runMain(import.meta, async () => {
  await using manager = await Manager();

  // A proxy can be used just like its referent (its methods return promises).
  const l = await manager.list(Array.from({ length: 10 }, (_, i) => i * i));
  console.log(await l.toString()); // prints "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"  (str(l): the referent)
  console.log(inspect(l)); // prints "<ListProxy object, typeid 'list' at 0x…>"  (repr(l): the proxy)
  console.log(await l.get(4)); // prints "16"  (l[4])
  console.log(await l.slice(2, 5)); // prints "[ 4, 9, 16 ]"  (l[2:5])

  // Proxies travel, so a referent can contain proxies: nested shared lists.
  const a = await manager.list<ListProxy<string>>();
  const b = await manager.list<string>();
  await a.append(b); // referent of a now contains referent of b
  console.log(await a.toString(), await b.toString()); // prints "[<ListProxy object, typeid 'list' at 0x…>] []"
  await b.append('hello');
  console.log(await (await a.get(0)).toString(), await b.toString()); // prints "['hello'] ['hello']"

  // Dict and list proxies may be nested inside one another.
  const lOuter = await manager.list<DictProxy<string, number>>([await manager.dict(), await manager.dict()]);
  const dFirstInner = await lOuter.get(0);
  await dFirstInner.set('a', 1);
  await dFirstInner.set('b', 2);
  await (await lOuter.get(1)).set('c', 3);
  await (await lOuter.get(1)).set('z', 26);
  console.log(await (await lOuter.get(0)).toString()); // prints "{'a': 1, 'b': 2}"
  console.log(await (await lOuter.get(1)).toString()); // prints "{'c': 3, 'z': 26}"

  // A plain (non-proxy) object inside a referent is a copy once read: changing it changes
  // nothing in the manager until it is stored again (`lproxy[0] = d`).
  const lproxy = await manager.list<Record<string, number>>();
  await lproxy.append({});
  const d = await lproxy.get(0);
  d.a = 1;
  d.b = 2;
  console.log(await lproxy.toString()); // prints "[{}]"  (the changes to d are not yet synced)
  await lproxy.set(0, d);
  console.log(await lproxy.toString()); // prints "[{'a': 1, 'b': 2}]"

  // Proxies do not compare by value (in JavaScript an object is never == an array anyway);
  // compare a copy of the referent instead.
  const numbers = await manager.list([1, 2, 3]);
  console.log(isDeepStrictEqual(numbers, [1, 2, 3])); // prints "false"  (manager.list([1,2,3]) == [1,2,3])
  console.log(isDeepStrictEqual(await numbers._getvalue(), [1, 2, 3])); // prints "true"

  // _callmethod calls a method of the referent by name. mpjs's list methods are named as
  // ListProxy's: `length` (Python's __len__) and `slice`/`get` (Python's __getitem__).
  const l10 = await manager.list(Array.from({ length: 10 }, (_, i) => i));
  console.log(await l10._callmethod('length')); // prints "10"
  console.log(await l10._callmethod('slice', [2, 7])); // prints "[ 2, 3, 4, 5, 6 ]"  (l[2:7])
  try {
    await l10._callmethod('get', [20]); // l[20]
  } catch (error) {
    // Python raises IndexError; mpjs raises RangeError, re-thrown here as the same class.
    console.log(`${(error as Error).name}: ${(error as Error).message}`); // prints "RangeError: list index out of range: 20 (length 10)"
  }
});
