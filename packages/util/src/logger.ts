/**
 * A small logger shaped like the one `multiprocessing.get_logger()` returns:
 * silent until a handler is added, lines formatted as
 * `[LEVEL/ProcessName] message`, with the process name supplied by whoever
 * knows it (`@mpjs/process` installs a provider).
 */
import { format } from 'node:util';

/** Python's logging levels, plus multiprocessing's SUBDEBUG and SUBWARNING. */
export const LogLevel = {
  NOTSET: 0,
  SUBDEBUG: 5,
  DEBUG: 10,
  INFO: 20,
  SUBWARNING: 25,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
} as const;

/** A level name (`'INFO'`) or number (`20`). */
export type LogLevelName = keyof typeof LogLevel;

/** One log call, as handlers receive it. */
export interface LogRecord {
  level: number;
  levelName: string;
  processName: string;
  message: string;
  time: Date;
}

/** Receives every record at or above the logger's level. */
export type LogHandler = (record: LogRecord) => void;

let processNameProvider: () => string = () => 'MainProcess';

/** Lets the process layer tell the logger the current process's name. */
export function setProcessNameProvider(provider: () => string): void {
  processNameProvider = provider;
}

/** The current process's name as the logger prints it. */
export function currentProcessName(): string {
  return processNameProvider();
}

function levelName(level: number): string {
  for (const [name, value] of Object.entries(LogLevel)) if (value === level) return name;
  return `Level ${level}`;
}

/** Turns a level name or number into a number, rejecting anything else. */
export function toLevel(level: number | LogLevelName | string): number {
  if (typeof level === 'number' && Number.isFinite(level)) return level;
  if (typeof level === 'string' && level.toUpperCase() in LogLevel) {
    return LogLevel[level.toUpperCase() as LogLevelName];
  }
  throw new TypeError(
    `unknown log level ${JSON.stringify(level)}: use a number or one of ${Object.keys(LogLevel).join(', ')}`,
  );
}

/** Formats a record the way multiprocessing's `log_to_stderr()` does. */
export function formatRecord(record: LogRecord): string {
  return `[${record.levelName}/${record.processName}] ${record.message}`;
}

/**
 * The level a logger at NOTSET goes by: Python's root logger's default, so an
 * unconfigured logger shows warnings and above, as `logging` does.
 */
const DEFAULT_EFFECTIVE_LEVEL = LogLevel.WARNING;

/** The logger of mpjs (Python's `multiprocessing` logger). */
export class Logger {
  /**
   * The level set on this logger; records below its effective level are
   * dropped. NOTSET (the default) means WARNING, as in Python, where such a
   * logger takes the root logger's level.
   */
  level: number = LogLevel.NOTSET;
  readonly name: string;
  readonly #handlers = new Set<LogHandler>();

  constructor(name: string) {
    this.name = name;
  }

  setLevel(level: number | LogLevelName): void {
    this.level = toLevel(level);
  }

  addHandler(handler: LogHandler): void {
    this.#handlers.add(handler);
  }

  removeHandler(handler: LogHandler): void {
    this.#handlers.delete(handler);
  }

  get handlers(): readonly LogHandler[] {
    return [...this.#handlers];
  }

  /** The level records are compared with: the one set, or WARNING while it is NOTSET (Python's `getEffectiveLevel()`). */
  getEffectiveLevel(): number {
    return this.level === LogLevel.NOTSET ? DEFAULT_EFFECTIVE_LEVEL : this.level;
  }

  /** Whether a record at `level` would be written: a handler is there and the level is at least the effective one. */
  isEnabledFor(level: number): boolean {
    return this.#handlers.size > 0 && level >= this.getEffectiveLevel();
  }

  log(level: number, message: unknown, ...args: unknown[]): void {
    if (!this.isEnabledFor(level)) return;
    const record: LogRecord = {
      level,
      levelName: levelName(level),
      processName: processNameProvider(),
      message: format(message, ...args),
      time: new Date(),
    };
    for (const handler of this.#handlers) handler(record);
  }

  subDebug(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.SUBDEBUG, message, ...args);
  }
  debug(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.DEBUG, message, ...args);
  }
  info(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.INFO, message, ...args);
  }
  subWarning(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.SUBWARNING, message, ...args);
  }
  warning(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.WARNING, message, ...args);
  }
  error(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.ERROR, message, ...args);
  }
  critical(message: unknown, ...args: unknown[]): void {
    this.log(LogLevel.CRITICAL, message, ...args);
  }
}

const logger = new Logger('multiprocessing');
let stderrHandler: LogHandler | undefined;

/** Python's `get_logger()`: the library's logger, silent until a handler is added. */
export function getLogger(): Logger {
  return logger;
}

/**
 * Python's `log_to_stderr(level)`: adds (once) a handler that writes
 * `[LEVEL/ProcessName] message` lines to stderr, and sets the level if given.
 * Without a level the logger keeps its own (NOTSET at first, which shows
 * WARNING and above, as in Python): pass `'INFO'` or `'DEBUG'` to see the
 * library's own lines. Children started afterwards log the same way.
 */
export function logToStderr(level?: number | LogLevelName): Logger {
  if (!stderrHandler) {
    stderrHandler = (record) => {
      process.stderr.write(`${formatRecord(record)}\n`);
    };
    logger.addHandler(stderrHandler);
  }
  if (level !== undefined) logger.setLevel(level);
  return logger;
}

/** Whether `logToStderr()` is active, and at which level: what a child must copy. */
export function stderrLoggingState(): { enabled: boolean; level: number } {
  return { enabled: stderrHandler !== undefined, level: logger.level };
}
