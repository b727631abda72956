// The spec's logging session: log to stderr at INFO, a warning, then a manager's start and
// shutdown as its server process logs them.
// Run: node --import tsx docs/examples/logging.ts
import { runMain } from '@mpjs/process';
import { Manager } from '@mpjs/managers';
import { LogLevel, logToStderr } from '@mpjs/util';

await runMain(import.meta, async () => {
  const logger = logToStderr();
  logger.setLevel(LogLevel.INFO);
  logger.warning('doomed'); // prints "[WARNING/MainProcess] doomed"
  const m = await Manager();
  // [INFO/SyncManager-1] child process calling self.run()
  // [INFO/SyncManager-1] manager serving at '\x00mpjs-manager-…'   (Linux: an abstract socket name, nothing on disk)
  await m.shutdown(); // Python's `del m`
  // [INFO/MainProcess] sending shutdown message to manager
  // [INFO/SyncManager-1] process shutting down
  // [INFO/SyncManager-1] process exiting with exitcode 0
});
// [INFO/MainProcess] process shutting down   (at the program's end, as Python logs it)
