/**
 * The few native services the process layer uses, behind one door: the
 * parent-death signal, passing file descriptors to a warm interpreter, and
 * waiting for a child synchronously at exit.
 */
import { closeFd, recvFds, sendFds, setParentDeathSignal, socketpair, waitChildSync, type ChildExit } from '@mpjs/native';

export { exitImmediately } from '@mpjs/native';

/** Asks the kernel to send `signal` to this process when its parent dies. Best effort. */
export function dieWithParent(signal: NodeJS.Signals, parentPid: number): boolean {
  try {
    setParentDeathSignal(signal, parentPid);
    return true;
  } catch {
    return false;
  }
}

/** A Unix socket pair for passing fds (both ends close-on-exec), or null without native support. */
export function fdChannel(): [number, number] | null {
  try {
    return socketpair();
  } catch {
    return null;
  }
}

/** Sends `fds` (with one marker byte) over an fd channel. */
export function sendHandles(socketFd: number, fds: readonly number[]): void {
  sendFds(socketFd, [...fds], new Uint8Array([1]));
}

/** Receives the fds the parent sent over an fd channel. */
export async function receiveHandles(socketFd: number, count: number): Promise<number[]> {
  const { fds } = await recvFds(socketFd, { maxFds: count, maxBytes: 1 });
  return fds;
}

/** Closes a raw fd, ignoring errors. */
export function closeQuietly(fd: number): void {
  try {
    closeFd(fd);
  } catch {
    // already closed
  }
}

/**
 * Waits, blocking the thread, until the child `pid` ends and reaps it; null
 * when it is no child to wait for (already reaped).
 */
export function waitForChildSync(pid: number): ChildExit | null {
  try {
    return waitChildSync(pid);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ECHILD') return null;
    throw error;
  }
}
