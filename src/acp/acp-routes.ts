import type { AcpRouteSection } from '../config/schema.js';
import type { TaskRunner } from '../tasks/task-execution.js';

/** The model a task on an ACP route records: the agent's model is its own business. */
const modelPrefix = 'acp:';

/**
 * The routes of `delegation.routes` that name an ACP agent (`provider: acp`), as the runtime hands
 * them to delegation: the runner of a child on one, the model its task records (`acp:<route>`),
 * (`reportsUsage`: ACP reports no tokens). Delegation sees only `runnerFor`
 * and the model string; it never imports this folder.
 */
export class AcpRoutes {
  constructor(private readonly routes: ReadonlyMap<string, AcpRouteSection>) {}

  has(route: string): boolean {
    return this.routes.has(route);
  }

  names(): string[] {
    return [...this.routes.keys()];
  }

  /** The runner of a child on `route` (the agent's subprocess, its SDK loaded on first use), or undefined for a model route. */
  runnerFor(route: string): TaskRunner | undefined {
    const section = this.routes.get(route);
    if (!section) return undefined;
    return {
      run: async (task, control) => {
        const { AcpChildRunner } = await import('./child-runner.js');
        return new AcpChildRunner(route, section).run(task, control);
      },
    };
  }

  /** The model a task on `route` records, or undefined for a model route. */
  childModel(route: string): string | undefined {
    return this.routes.has(route) ? `${modelPrefix}${route}` : undefined;
  }
}

/** Whether a task on `model` counts tokens: a child that is an ACP agent (`acp:<route>`) reports none. */
export function reportsUsage(model: string): boolean {
  return !model.startsWith(modelPrefix);
}
