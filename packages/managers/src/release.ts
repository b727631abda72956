/**
 * The references proxies hold in their servers, and when they are given back:
 * when a proxy is garbage-collected (a `FinalizationRegistry`), when a server
 * frees the object that held it, and when its process ends (Python's
 * `BaseProxy._decref`, a finalizer of exit priority 10).
 *
 * At exit: a child process gives its references back after its target has
 * returned, and the main program when its event loop runs dry, both through
 * `registerBeforeExit()` of `@mpjs/process`, whose hooks are awaited. What
 * nothing can await — `process.exit()`, or the end that follows `beforeExit`
 * — gets a synchronous best effort from `process.on('exit')`: the `decref`
 * requests are written on the connections already open, unanswered. A
 * process killed by a signal gives nothing back (nor does Python's).
 */
import type { Address } from '@mpjs/connection';
import { registerBeforeExit } from '@mpjs/process';
import { getLogger } from '@mpjs/util';
import { decrefNow, dropConnections, serverCall } from './dispatch.js';
import type { Server } from './server.js';
import { addressKey } from './token.js';

/** One reference a proxy holds in a server. */
export interface Release {
  readonly address: Address;
  readonly authkey: Buffer;
  readonly id: string;
  /** The server, when it runs in this process (the reference is counted directly). */
  readonly server: Server | undefined;
  /** Given back already. */
  done: boolean;
}

/** How long the exit hook waits for the servers to acknowledge, in ms. */
const EXIT_RELEASE_MS = 2000;

/** References held in servers of other processes, not yet given back. */
const live = new Set<Release>();

const collected = new FinalizationRegistry<Release>((release) => {
  giveBack(release);
});

/** Starts counting `release` as held by `proxy`: it is given back when `proxy` is collected, or at exit. */
export function track(proxy: object, release: Release): void {
  collected.register(proxy, release, release);
  if (release.server) return;
  live.add(release);
  installExitRelease();
}

/** Gives a reference back now (once). */
export function giveBack(release: Release): void {
  if (release.done) return;
  release.done = true;
  live.delete(release);
  collected.unregister(release);
  if (release.server) {
    release.server.decref(release.id);
    return;
  }
  serverCall(release.address, release.authkey, 'decref', [release.id]).catch((error: unknown) => {
    getLogger().debug(`decref of ${release.id} failed (the manager may be gone): ${String(error)}`);
  });
}

/**
 * Forgets the references held in the server at `address` without giving
 * them back: it was shut down, nobody is left to tell.
 */
export function forgetServer(address: Address): void {
  const key = addressKey(address);
  for (const release of [...live]) {
    if (addressKey(release.address) !== key) continue;
    release.done = true;
    live.delete(release);
    collected.unregister(release);
  }
}

let hookInstalled = false;
let exitListenerInstalled = false;

function installExitRelease(): void {
  if (!hookInstalled) {
    hookInstalled = true;
    registerBeforeExit(releaseAllAtExit);
  }
  if (!exitListenerInstalled) {
    exitListenerInstalled = true;
    process.on('exit', releaseAllNow);
  }
}

/** The awaited exit hook: every reference given back, the servers' answers awaited (for a while). */
async function releaseAllAtExit(): Promise<void> {
  // Proxies made after this point register the hook again (a child's later hooks still run).
  hookInstalled = false;
  const due = [...live];
  if (due.length === 0) return;
  const sent = due.map(async (release) => {
    release.done = true;
    live.delete(release);
    collected.unregister(release);
    try {
      await serverCall(release.address, release.authkey, 'decref', [release.id]);
    } catch (error) {
      getLogger().debug(`decref of ${release.id} at exit failed (the manager may be gone): ${String(error)}`);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), EXIT_RELEASE_MS);
  });
  const outcome = await Promise.race([Promise.all(sent), late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    // A server that does not answer must not keep this process alive.
    for (const address of new Set(due.map((r) => r.address))) dropConnections(address);
  }
}

/** The synchronous best effort of `process.on('exit')`. */
function releaseAllNow(): void {
  for (const release of [...live]) {
    if (decrefNow(release.address, release.authkey, release.id)) {
      release.done = true;
      live.delete(release);
    }
  }
}
