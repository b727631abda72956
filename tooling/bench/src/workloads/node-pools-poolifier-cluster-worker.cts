/**
 * poolifier's FixedClusterPool worker for the node-pools benchmark. CommonJS:
 * with an ES module as the worker file, poolifier 5.3 (Node 20) starts the
 * workers but never gets a task's answer back.
 */
import poolifier = require('poolifier');

export = new poolifier.ClusterWorker((x?: number): number => x! * x!);
