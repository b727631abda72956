// First: the Node.js version check, before any module of the package takes a built-in.
import './node-version.js';

export {
  ProcessError,
  BufferTooShort,
  AuthenticationError,
  TimeoutError,
  RemoteError,
  Empty,
  Full,
  BrokenBarrierError,
  EOFError,
  ValueError,
  AssertionError,
  ProtocolError,
  errorClasses,
} from './errors.js';
export type { MpErrorOptions } from './errors.js';
export {
  LogLevel,
  Logger,
  getLogger,
  logToStderr,
  formatRecord,
  toLevel,
  setProcessNameProvider,
  currentProcessName,
  stderrLoggingState,
} from './logger.js';
export type { LogLevelName, LogRecord, LogHandler } from './logger.js';
export { Finalize, runFinalizers, pendingFinalizers } from './finalize.js';
export type { FinalizeOptions } from './finalize.js';
export {
  Deadline,
  normalizeTimeout,
  throwIfAborted,
  withdrawOnAbort,
  delay,
  waitFor,
  setLongTimeout,
  MAX_TIMER_DELAY,
  checkSignal,
  waitArguments,
} from './deadline.js';
export type { Timeout, WaitForOptions, LongTimer, AbortOptions, TimeoutOptions, Settleable } from './deadline.js';
export { waitReady, isWaitable } from './waitable.js';
export type { Waitable } from './waitable.js';
export { POLL_MICROS, PollBackoff } from './poll-budget.js';
export { PollGroup } from './poll-group.js';
export { enqueueMicrotask } from './microtask.js';
export { WordPoller } from './word-poller.js';
export type { PollOutcome, PollGroupOptions } from './poll-group.js';
export { lazyBuiltin } from './lazy-builtin.js';
export { randomBytes } from './random-bytes.js';
