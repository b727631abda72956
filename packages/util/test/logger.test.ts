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
