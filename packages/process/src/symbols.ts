/**
 * Protocol keys. `Symbol.for` so that two copies of this package loaded in one
 * process (a bundled copy and an installed one, or `src/` under a TypeScript
 * loader next to `dist/`) agree on them.
 */

/** Where a process object keeps its internal state. */
export const kState: unique symbol = Symbol.for('mpjs.process.state') as never;

/** The per-process runtime record (current process, children, counters). */
export const kRuntime: unique symbol = Symbol.for('mpjs.process.runtime') as never;

/**
 * The global slot holding the current process's authentication key (a
 * `Buffer`). `@mpjs/connection` reads it as the default authkey without
 * importing this package.
 */
export const kAuthkey: unique symbol = Symbol.for('mpjs.authkey') as never;
