export { createSharedMemory, mapSharedMemory, closeFd, shmOpen, shmUnlink } from './shared-memory.js';
export type { SharedMemoryBlock, NamedSharedMemoryBlock, ShmOpenOptions } from './shared-memory.js';
export { futexWait, futexWaitAsync, futexWake, futexBackend } from './futex.js';
export type { FutexWaitResult, FutexWaitAsyncOptions, FutexBackend } from './futex.js';
export { socketpair, dupFd, sendFds, recvFds, recvFdsSync, MAX_FDS_PER_MESSAGE } from './fd-passing.js';
export type { RecvFdsOptions, RecvFdsSyncOptions, ReceivedFds } from './fd-passing.js';
export { setParentDeathSignal, getppid, exitImmediately } from './process-control.js';
export { bindingPath } from './binding.js';
export { readPolling, schedYield } from './polled-read.js';
