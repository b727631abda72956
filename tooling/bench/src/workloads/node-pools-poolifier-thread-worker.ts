/** poolifier's FixedThreadPool worker for the node-pools benchmark. */
import { ThreadWorker } from 'poolifier';

export default new ThreadWorker((x?: number): number => x! * x!);
