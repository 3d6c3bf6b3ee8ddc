/**
 * Code-affecting versions, part of every task id (design.md §3): bump a kind's number when a
 * change alters the numbers its tasks produce, so old results are not mixed with new ones.
 */
export const TASK_VERSIONS = { kernel: 1, train: 1, debug: 1 } as const;
