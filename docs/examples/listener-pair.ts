// Runs listener-server.ts and listener-client.ts side by side, as two processes:
// the client starts once the server says it is listening.
// Run: node --import tsx docs/examples/listener-pair.ts [port]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const port = process.argv[2] ?? '6000';
const script = (name: string): string => fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
const exited = (child: ReturnType<typeof spawn>): Promise<number | null> =>
  new Promise((resolve) => child.on('exit', (code) => resolve(code)));

const server = spawn(process.execPath, ['--import', 'tsx', script('listener-server'), port], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serverExit = exited(server);
let clientExit: Promise<number | null> = Promise.resolve(null);
for await (const line of createInterface({ input: server.stdout })) {
  console.log(`[server] ${line}`);
  if (line.startsWith('listening on')) {
    const client = spawn(process.execPath, ['--import', 'tsx', script('listener-client'), port], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    clientExit = exited(client);
    void (async () => {
      for await (const clientLine of createInterface({ input: client.stdout })) console.log(`[client] ${clientLine}`);
    })();
  }
}
const [serverCode, clientCode] = await Promise.all([serverExit, clientExit]);
process.exitCode = serverCode === 0 && clientCode === 0 ? 0 : 1;
