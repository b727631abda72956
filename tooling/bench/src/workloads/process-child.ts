/** Targets of the process workload: the children import this module. */

/** The trivial target whose start→join is measured. */
export function trivial(): void {}
