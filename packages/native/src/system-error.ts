/**
 * Turns the negative errno numbers of the addon into Node-style errors
 * (`code: 'EBADF'`, `errno: -9`, `syscall: 'mmap'`), as `fs` throws them.
 */
import { constants } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';

/** Names of errno values libuv has no name for (ECHILD, say), from the OS's list. */
const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, value]) => [-value, name]));

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
  // libuv names only the errors it knows; it answers "Unknown system error -10" for the others.
  if (code.startsWith('Unknown')) code = errnoNames.get(errno) ?? code;
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
