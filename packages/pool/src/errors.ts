/**
 * Errors of the pool besides those of `@mpjs/util`.
 */
import { ProcessError } from '@mpjs/util';

/**
 * Python's `multiprocessing.pool.MaybeEncodingError`: a task's result (or
 * error) could not be sent back to the parent, for example a closure or an
 * instance of a class that is not exported. The message says what failed.
 */
export class MaybeEncodingError extends ProcessError {
  /** Stable error code. */
  override readonly code: string = 'ERR_MP_MAYBE_ENCODING';
  constructor(message: string) {
    super(message);
    this.name = 'MaybeEncodingError';
  }
}
