export { Process } from './process.js';
export type { ProcessOptions, Target } from './process.js';
export { ParentProcess } from './parent-process.js';
export { ProcessSentinel } from './sentinel.js';
export { currentProcess, parentProcess, activeChildren, cpuCount } from './current.js';
export {
  BaseContext,
  ConcreteContext,
  SpawnContext,
  ForkServerContext,
  DefaultContext,
  defaultContext,
  getContext,
  setStartMethod,
  getStartMethod,
  getAllStartMethods,
  freezeSupport,
} from './context.js';
export type { SetStartMethodOptions } from './context.js';
export type { StartMethod } from './popen.js';
export type { LauncherSource } from './runtime.js';
export { setExecutable, setExecArgv, getExecArgv, getExecutable, EXEC_ARGV_ENV } from './exec-options.js';
export { setForkserverPreload, setForkserverPoolSize, forkserverLearn } from './start-methods/forkserver.js';
export { isMainModule, runMain } from './main-guard.js';
export type { ModuleIdentity } from './main-guard.js';
export { registerBeforeExit } from './exit.js';
export { kAuthkey } from './symbols.js';
export {
  ProcessError,
  BufferTooShort,
  AuthenticationError,
  TimeoutError,
  ValueError,
  AssertionError,
  getLogger,
  logToStderr,
} from '@mpjs/util';
