/**
 * What a run consults before every model call and every batch of tool calls (`LoopOptions.guard`):
 * a budget, or any other limit on a run that the loop itself knows nothing about. The loop stays
 * one plain function; the guard decides.
 */
export interface RunGuard {
  /**
   * Undefined: go on. A stop: the run ends `failed` with its `exitReason` and `message` (its last
   * text kept as the partial answer). May read a store; must not throw (a failure to read is a
   * reason to go on or a stop, the guard's choice).
   */
  check(): Promise<RunStop | undefined>;
}

export interface RunStop {
  exitReason: 'budget_exceeded';
  message: string;
}
