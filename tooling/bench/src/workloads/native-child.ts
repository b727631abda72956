/**
 * The other player of the cross-process futex ping-pong in native.ts, and the
 * `play` loop both sides use.
 *
 *   node native-child.js <sync|async> <rounds>
 *
 * Maps the shared memory it inherited as fd 3, sets word 1 to say it is
 * ready, then plays player 1 for `rounds` rounds on word 0.
 */
import { fileURLToPath } from 'node:url';
import { futexWait, futexWaitAsync, futexWake, mapSharedMemory } from '@mpjs/native';

/** How a player sleeps while it is not its turn. */
export type WaitMode = 'sync' | 'async';

/**
 * Plays rounds [from, to) as `player` (0 or 1): in round r the player moves
 * when word 0 holds 2r + player, storing 2r + player + 1 and waking the other.
 */
export async function play(view: Int32Array, player: number, from: number, to: number, mode: WaitMode): Promise<void> {
  for (let r = from; r < to; r++) {
    const mine = 2 * r + player;
    for (let v = Atomics.load(view, 0); v !== mine; v = Atomics.load(view, 0)) {
      if (mode === 'async') await futexWaitAsync(view, 0, v);
      else futexWait(view, 0, v);
    }
    Atomics.store(view, 0, mine + 1);
    futexWake(view, 0, 1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mode, rounds] = process.argv.slice(2);
  const view = new Int32Array(mapSharedMemory(3));
  Atomics.store(view, 1, 1);
  futexWake(view, 1);
  await play(view, 1, 0, Number(rounds), mode === 'async' ? 'async' : 'sync');
}
