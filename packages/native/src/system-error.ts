/**
 * Turns the negative errno numbers of the addon into Node-style errors
 * (`code: 'EBADF'`, `errno: -9`, `syscall: 'mmap'`), as `fs` throws them.
 */
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

/** Details added to a system error. */
export interface SystemErrorDetails {
  /** What the call was about (a name, a path), quoted after the syscall. */
  target?: string;
  /** A sentence that replaces the generic description, saying what went wrong and what to do. */
  message?: string;
}

/** A Node-style error for `errno` (negative, as the addon returns it) raised by `syscall`. */
export function systemError(errno: number, syscall: string, details: SystemErrorDetails = {}): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = `Unknown system error ${errno}`;
  }
  const description = getSystemErrorMap().get(errno)?.[1] ?? 'unknown error';
  const where = details.target === undefined ? syscall : `${syscall} '${details.target}'`;
  const text = details.message === undefined ? `${code}: ${description}, ${where}` : `${code}: ${details.message} (${where})`;
  const error: NodeJS.ErrnoException = new Error(text);
  error.errno = errno;
  error.code = code;
  error.syscall = syscall;
  if (details.target !== undefined) error.path = details.target;
  Error.captureStackTrace(error, systemError);
  return error;
}
