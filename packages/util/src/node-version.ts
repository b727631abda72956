/**
 * The first thing an mpjs process runs: every built package takes Node's
 * built-in modules from `process.getBuiltinModule()` (Node 20.16 and later),
 * and an older Node would fail with a bare "is not a function".
 */
if (typeof process.getBuiltinModule !== 'function') {
  throw new Error(`mpjs needs Node.js 20.16 or newer, and this is Node.js ${process.version}: upgrade Node.js`);
}

export {};
