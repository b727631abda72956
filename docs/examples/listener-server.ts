// The spec's Listener example: a server that waits for one connection and sends it some data.
// Run: node --import tsx docs/examples/listener-server.ts [port]   (then listener-client.ts)
import { Listener } from '@mpjs/connection';

const port = Number(process.argv[2] ?? 6000);
const address = ['localhost', port] as const; // family is deduced to be 'AF_INET'

{
  using listener = await new Listener({ address, authkey: Buffer.from('secret password') }).ready();
  console.log('listening on', listener.address);
  using conn = await listener.accept();
  console.log('connection accepted from', listener.lastAccepted);

  // Python sends the class `float` here; any value the codec handles will do.
  conn.send([2.25, null, 'junk', 2n ** 64n]);

  conn.sendBytes(Buffer.from('hello'));

  conn.sendBytes(new Int32Array([42, 1729]));
  // Wait until the client has read everything and hung up.
  await conn.poll(null);
}
