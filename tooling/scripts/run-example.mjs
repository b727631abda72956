#!/usr/bin/env node
// `pnpm example <name> [args…]`: runs docs/examples/<name>.ts with the TypeScript loader,
// after building the packages. Without a name, lists the examples.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'docs', 'examples');
const [name, ...args] = process.argv.slice(2);
if (!name) {
  const names = readdirSync(examples).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  console.log(`usage: pnpm example <name>\n\nexamples:\n  ${names.join('\n  ')}`);
  process.exit(0);
}
const file = join(examples, `${name.replace(/\.ts$/, '')}.ts`);
if (!existsSync(file)) {
  console.error(`no example named "${name}" in docs/examples; run \`pnpm example\` to list them`);
  process.exit(2);
}
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const run = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { cwd: examples, stdio: 'inherit' });
process.exit(run.status ?? 1);
