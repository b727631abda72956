/** Python's `KeyError`, thrown by a dict proxy for a missing key. */

/**
 * A key was not in the dict (Python's `KeyError`): `await d.getItem(k)`,
 * `await d.pop(k)` without a default. Round-trips between processes as itself.
 */
export class KeyError extends Error {
  /** Error code, as every mpjs error has one. */
  readonly code: string = 'ERR_MP_KEY';
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
  }
  static {
    Object.defineProperty(this.prototype, 'name', { value: 'KeyError', configurable: true, writable: true });
  }
}
