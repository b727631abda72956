/**
 * Protocol keys. `Symbol.for` so that two copies of this package (or a class
 * written without importing it) agree on them.
 */

/**
 * Python's `__reduce__`: a class may define a method under this key to choose
 * what it sends. The method returns `[callable, args]`; the receiver calls
 * `callable(...args)` (with `new` for a class) and uses the result. `callable`
 * must be exported, and be either a class that defines `[reduce]()` (usually
 * the class itself) or a function declared with `registerConstructor()`: a
 * receiver never calls anything else a message names.
 *
 * ```ts
 * export class Point {
 *   constructor(public x: number, public y: number) {}
 *   [reduce]() { return [Point, [this.x, this.y]]; }
 * }
 * ```
 */
export const reduce: unique symbol = Symbol.for('mpjs.reduce');
