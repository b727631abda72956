import { describe, expect, it, jest } from '@jest/globals';
import { getLogger, Logger, LogLevel, logToStderr, setProcessNameProvider, stderrLoggingState, toLevel, type LogRecord } from '../src/index.js';

describe('logger', () => {
  it('is silent until a handler is added, then filters by level', () => {
    const logger = new Logger('t');
    expect(logger.isEnabledFor(LogLevel.CRITICAL)).toBe(false);
    const records: LogRecord[] = [];
    logger.addHandler((r) => records.push(r));
    logger.setLevel('INFO');
    logger.debug('hidden');
    logger.info('shown %d', 42);
    expect(records.map((r) => [r.levelName, r.message])).toEqual([['INFO', 'shown 42']]);
  });

  it('goes by WARNING while its level is NOTSET, as Python does', () => {
    const logger = new Logger('t');
    const records: LogRecord[] = [];
    logger.addHandler((r) => records.push(r));
    expect(logger.level).toBe(LogLevel.NOTSET);
    expect(logger.getEffectiveLevel()).toBe(LogLevel.WARNING);
    logger.subDebug('hidden');
    logger.debug('hidden');
    logger.info('hidden');
    logger.subWarning('hidden');
    logger.warning('shown');
    logger.error('shown too');
    expect(records.map((r) => r.levelName)).toEqual(['WARNING', 'ERROR']);
    logger.setLevel('DEBUG');
    logger.debug('now shown');
    logger.setLevel(LogLevel.NOTSET);
    logger.info('hidden again');
    expect(records.map((r) => r.message)).toEqual(['shown', 'shown too', 'now shown']);
  });

  it('logToStderr() without a level writes warnings and above only, and keeps a level set before', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      logToStderr();
      getLogger().debug('debug line');
      getLogger().info('info line');
      getLogger().warning('warning line');
      expect(write.mock.calls.map((c) => c[0])).toEqual(['[WARNING/MainProcess] warning line\n']);
      expect(stderrLoggingState()).toEqual({ enabled: true, level: LogLevel.NOTSET });
      getLogger().setLevel('INFO');
      logToStderr();
      getLogger().info('info line');
      expect(write.mock.calls.map((c) => c[0])).toEqual(['[WARNING/MainProcess] warning line\n', '[INFO/MainProcess] info line\n']);
    } finally {
      write.mockRestore();
      getLogger().setLevel(LogLevel.NOTSET);
    }
  });

  it('logToStderr writes [LEVEL/ProcessName] lines', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      setProcessNameProvider(() => 'Process-3');
      logToStderr(LogLevel.INFO);
      logToStderr(LogLevel.INFO); // a second call adds no second handler
      getLogger().info('child says %s', 'hi');
      getLogger().debug('below level');
      expect(write.mock.calls.map((c) => c[0])).toEqual(['[INFO/Process-3] child says hi\n']);
      expect(stderrLoggingState()).toEqual({ enabled: true, level: 20 });
    } finally {
      write.mockRestore();
      setProcessNameProvider(() => 'MainProcess');
    }
  });

  it('rejects unknown levels with a message naming the valid ones', () => {
    expect(() => toLevel('LOUD')).toThrow(/unknown log level "LOUD".*DEBUG/);
    expect(toLevel('warning')).toBe(30);
  });
});
