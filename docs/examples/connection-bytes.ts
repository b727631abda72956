// The spec's doctest of Connection objects: objects, bytes, and bytes received into an array.
// Run: node --import tsx docs/examples/connection-bytes.ts
// (Both ends stay in this process: no child is started, so no main guard is needed.)
import assert from 'node:assert/strict';
import { Pipe } from '@mpjs/connection';

const [a, b] = Pipe();
a.send([1, 'hello', null]);
console.log(await b.recv()); // prints "[ 1, 'hello', null ]" (Python: [1, 'hello', None])

b.sendBytes(Buffer.from('thank you'));
console.log((await a.recvBytes()).toString()); // prints "thank you" (Python shows the bytes: b'thank you')

// Python's array.array('i', ...) is an Int32Array here.
const arr1 = Int32Array.from({ length: 5 }, (_, i) => i);
const arr2 = new Int32Array(10);
a.sendBytes(arr1);
const count = await b.recvBytesInto(arr2);
assert(count === arr1.length * arr1.BYTES_PER_ELEMENT);
console.log(count); // prints "20"
console.log(`[${arr2.join(', ')}]`); // prints "[0, 1, 2, 3, 4, 0, 0, 0, 0, 0]" (Python: array('i', [0, 1, 2, 3, 4, 0, 0, 0, 0, 0]))

a.close();
b.close();
