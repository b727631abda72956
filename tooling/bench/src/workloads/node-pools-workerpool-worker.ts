/** workerpool's worker script (process or thread) for the node-pools benchmark. */
import workerpool from 'workerpool';

workerpool.worker({ square: (x: number): number => x * x });
