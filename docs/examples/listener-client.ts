// The spec's Client example: connects to listener-server.ts and receives its data.
// Run: node --import tsx docs/examples/listener-client.ts [port]
import { Client } from '@mpjs/connection';

const port = Number(process.argv[2] ?? 6000);
const address = ['localhost', port] as const;

{
  using conn = await Client(address, { authkey: Buffer.from('secret password') });
  console.log(await conn.recv()); // => [ 2.25, null, 'junk', 18446744073709551616n ]

  console.log((await conn.recvBytes()).toString()); // => 'hello'

  const arr = new Int32Array([0, 0, 0, 0, 0]);
  console.log(await conn.recvBytesInto(arr)); // => 8
  console.log(arr); // => Int32Array(5) [ 42, 1729, 0, 0, 0 ]
}
