/**
 * Start method `spawn`: a fresh Node interpreter per process. The parent
 * starts `node [execArgv] bootstrap.js spawn`, passes the handles of the
 * arguments in the child's stdio table (fd 4 on) and writes the START frame
 * on the control socket (fd 3).
 */
import { encodeFrame, MessageKind } from '../messages.js';
import { Popen } from '../popen.js';
import { startInterpreter, type LaunchRequest, type Launcher } from '../launch.js';

/** The `spawn` launcher. */
export const spawnLauncher: Launcher = {
  method: 'spawn',
  launch(request: LaunchRequest): Popen {
    const { child, control } = startInterpreter(
      'spawn',
      [],
      request.handles.map((h) => h.fd),
    );
    control.write(
      encodeFrame(
        { ...request.message, kind: MessageKind.START, startMethod: 'spawn', handleTransport: 'stdio' },
        request.payload,
      ),
    );
    const popen = new Popen('spawn', child, control);
    // No child keeps the loop alive by itself: the exit handling joins the non-daemonic ones (exit.ts).
    popen.unref();
    return popen;
  },
};
