/**
 * The tracker process of named shared memory (never imported; started by
 * resource-tracker.ts as `node tracker.js <creator pid>` with a socket on
 * stdin). Lines `+name` and `-name` add and strike names; at end of file —
 * the creator has exited or been killed — every name left is unlinked.
 */
import { shmUnlink } from '@mpjs/native';

const creator = process.argv[2] ?? '?';
const names = new Set<string>();
let pending = '';

// Outlive the creator whatever signal its process group receives; end of file ends us.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

function cleanup(): void {
  const unlinked: string[] = [];
  for (const name of names) {
    try {
      shmUnlink(name);
      unlinked.push(name);
    } catch (error) {
      // ENOENT: someone else unlinked it already.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        process.stderr.write(`mpjs: cannot unlink shared memory '${name}': ${(error as Error).message}\n`);
      }
    }
  }
  if (unlinked.length > 0) {
    const count = unlinked.length === 1 ? '1 shared memory block' : `${unlinked.length} shared memory blocks`;
    process.stderr.write(
      `mpjs: unlinked ${count} that process ${creator} created and did not unlink before it ended: ${unlinked.join(', ')}\n`,
    );
  }
  process.exit(0);
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line.startsWith('+')) names.add(line.slice(1));
    else if (line.startsWith('-')) names.delete(line.slice(1));
  }
});
process.stdin.on('end', cleanup);
process.stdin.on('error', cleanup);
