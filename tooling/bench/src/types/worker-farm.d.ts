// worker-farm ships no types: the part of its API the bench uses.
declare module 'worker-farm' {
  import type { ChildProcess } from 'node:child_process';

  type Callback = (error: Error | null, result?: unknown) => void;
  type Farm = Record<string, (...args: [...unknown[], Callback]) => void>;
  interface FarmOptions {
    maxConcurrentWorkers?: number;
    maxConcurrentCallsPerWorker?: number;
    maxCallsPerWorker?: number;
    autoStart?: boolean;
    onChild?: (child: ChildProcess) => void;
  }
  function workerFarm(options: FarmOptions, path: string, methods: string[]): Farm;
  namespace workerFarm {
    function end(farm: Farm, callback?: (error?: Error) => void): void;
  }
  export = workerFarm;
}
