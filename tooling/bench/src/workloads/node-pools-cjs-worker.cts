/**
 * Worker module of the node-pools benchmark for pools that `require()` it:
 * jest-worker calls `square` and awaits its value, worker-farm calls
 * `squareCallback` with a Node-style callback.
 */
export = {
  square(x: number): number {
    return x * x;
  },
  squareCallback(x: number, callback: (error: null, y: number) => void): void {
    callback(null, x * x);
  },
};
