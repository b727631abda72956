/**
 * A fresh program's first `Manager()`: imports `@mpjs/managers`, starts a
 * manager and shuts it down, and prints how long that took (ms). Run as its
 * own process by managers.ts, so nothing is loaded or compiled beforehand.
 */
const t0 = performance.now();
const { Manager } = await import('@mpjs/managers');
await (await Manager()).shutdown();
process.stdout.write(`${performance.now() - t0}\n`);
