/**
 * How long a waiter stays awake before it sleeps.
 *
 * A process that sleeps until another one acts costs that other one a
 * wake-up: a few microseconds on the same CPU, tens of microseconds across
 * CPUs (30–40 µs on a VM), after which the woken process often starts on the
 * other CPU. A waiter that polls for a moment instead catches a hand-off from
 * a partner running on another CPU at once, so two processes passing work
 * back and forth need not sleep at all. The polling is bounded
 * ({@link POLL_MICROS}), skipped when the process may use only one CPU (it
 * would only hold up the partner), and backs off where waits keep outlasting
 * it ({@link PollBackoff}), so long waits cost no CPU.
 *
 * `MPJS_POLL_MICROS` in the environment sets the budget when the package
 * loads (`0` turns polling off).
 */
import { availableParallelism } from 'node:os';

const DEFAULT_POLL_MICROS = 50;

function budgetFromEnvironment(): number {
  const text = process.env.MPJS_POLL_MICROS;
  if (text === undefined || text.trim() === '') return DEFAULT_POLL_MICROS;
  const micros = Number(text);
  return Number.isFinite(micros) && micros >= 0 ? Math.min(micros, 1000) : DEFAULT_POLL_MICROS;
}

/**
 * Microseconds a waiter polls before it sleeps: 50 by default,
 * `MPJS_POLL_MICROS` if set (at most 1000), 0 when this process may run on
 * one CPU only.
 */
export const POLL_MICROS: number = availableParallelism() > 1 ? budgetFromEnvironment() : 0;

/** After this many polls in a row that found nothing, the skips stop growing. */
const MAX_MISSES = 7;

/**
 * Per-waiter polling state (one per lock, connection, …, in this process):
 * after a poll that found nothing, the following waits skip polling, twice
 * as many each time (up to 63); a poll that succeeds starts over.
 */
export class PollBackoff {
  #skip = 0;
  #misses = 0;

  /** Whether this wait should poll before it sleeps (counts a skip when not). */
  shouldPoll(): boolean {
    if (POLL_MICROS === 0) return false;
    if (this.#skip === 0) return true;
    this.#skip--;
    return false;
  }

  /** The poll caught what it waited for. */
  hit(): void {
    this.#misses = 0;
  }

  /** The poll ran out of time. */
  miss(): void {
    this.#misses = Math.min(this.#misses + 1, MAX_MISSES);
    this.#skip = 2 ** (this.#misses - 1) - 1;
  }
}
