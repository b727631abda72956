import { describe, expect, it } from '@jest/globals';
import { POLL_MICROS, PollBackoff, PollGroup, type PollOutcome } from '../src/index.js';

interface Waiter {
  name: string;
  backoff: PollBackoff;
  /** Outcomes its polls return, in order; then 'nothing'. */
  script: PollOutcome[];
}

function waiter(name: string, script: PollOutcome[]): Waiter {
  return { name, backoff: new PollBackoff(), script };
}

function group(log: string[]): PollGroup<Waiter> {
  return new PollGroup<Waiter>({
    poll: (w) => {
      log.push(w.name);
      return w.script.shift() ?? 'nothing';
    },
    backoff: (w) => w.backoff,
    yieldCpu: () => log.push('yield'),
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('PollGroup', () => {
  it('polls here (more than one CPU)', () => {
    expect(POLL_MICROS).toBeGreaterThan(0);
  });

  it('polls once the current code has run, members in turn, and stops at the first delivery', async () => {
    const log: string[] = [];
    const polls = group(log);
    polls.add(waiter('a', ['nothing', 'nothing', 'delivered']));
    polls.add(waiter('b', ['nothing', 'nothing', 'nothing']));
    expect(log).toEqual([]); // not yet: the code that added them is still running
    await tick();
    expect(log).toEqual(['a', 'b', 'yield', 'a', 'b', 'yield', 'a']);
  });

  it('drops a member that leaves, and gives up after the budget', async () => {
    const log: string[] = [];
    const polls = group(log);
    const gone = waiter('gone', ['leave']);
    polls.add(gone);
    polls.add(waiter('slow', []));
    await tick();
    expect(log.filter((name) => name === 'gone')).toEqual(['gone']);
    expect(log.filter((name) => name === 'slow').length).toBeGreaterThan(1);
    log.length = 0;
    polls.add(waiter('other', ['delivered']));
    await tick();
    expect(log).not.toContain('gone');
  });

  it('a member whose polls keep finding nothing skips polling for a wait', async () => {
    const log: string[] = [];
    const polls = group(log);
    const slow = waiter('slow', []);
    for (let i = 0; i < 2; i++) {
      polls.add(slow);
      await tick(); // polls until the budget runs out: a miss
    }
    log.length = 0;
    polls.add(slow);
    await tick();
    expect(log).toEqual([]);
    polls.add(slow);
    await tick();
    expect(log).toContain('slow');
  });

  it('delete() stops polling a member', async () => {
    const log: string[] = [];
    const polls = group(log);
    const closed = waiter('closed', ['delivered']);
    polls.add(closed);
    polls.delete(closed);
    await tick();
    expect(log).toEqual([]);
  });
});
