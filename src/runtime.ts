import { AcpRoutes, reportsUsage } from './acp/acp-routes.js';
import type { AgentSetup } from './agent/agent.js';
import { ContextWindows } from './agent/context/context-windows.js';
import { type CompactionRecord, compactingContext } from './agent/context/prepare-context.js';
import { defaultSystemPrompt } from './agent/system-prompt.js';
import { budgetFrom } from './budget/budget.js';
import { BudgetLedger } from './budget/budget-ledger.js';
import { type EndpointSpec, type ResolvedEndpoints, requestOptionsFor, resolveEndpoints } from './config/endpoints.js';
import type { LoadedConfig } from './config/load.js';
import type { ApprovalMode, CompactionSection, ConfigFile } from './config/schema.js';
import { type AgentScope, agentTools } from './delegation/agent-tools.js';
import { delegationToolsetNames } from './delegation/as-tools.js';
import type { ChildEnvironment } from './delegation/child-environment.js';
import { ChildRunner } from './delegation/child-runner.js';
import type { DelegationSession } from './delegation/session.js';
import { taskHandlesNote } from './delegation/task-handles.js';
import { costFromPrices } from './delegation/usage-view.js';
import { EndpointProviders, type ProviderFactory } from './endpoint-providers.js';
import { LegateError } from './errors.js';
import { providerEntry } from './provider/registry.js';
import type { Provider } from './provider/types.js';
import type { ApprovalGate } from './sandbox/approval-gate.js';
import { IOPerMode } from './sandbox/io-per-mode.js';
import { isNarrowerOrEqual, type SandboxMode } from './sandbox/modes.js';
import { redactSecrets, secretValues } from './secrets.js';
import { heartbeatMsFor } from './tasks/lease-keeper.js';
import { CapabilityCheckedRunner, type WorkerCapabilities } from './tasks/shared/capability-checked-runner.js';
import { MemoryTaskStore } from './tasks/store/memory-store.js';
import type { SessionStore } from './tasks/store/session-store.js';
import type { TaskStore } from './tasks/store/task-store.js';
import { sessionCaller, type TaskRunner, TaskService, type TaskServiceOptions } from './tasks/task-service.js';
import { traceTaskEvent } from './telemetry/task-event-trace.js';
import { TracedRunner } from './telemetry/traced-runner.js';
import { noTracing, type Tracing } from './telemetry/tracing.js';
import { createNodeIO } from './tools/node-io.js';
import type { Tool, ToolIO, Toolset } from './tools/tool.js';
import { builtinToolsets } from './tools/toolsets.js';
import { type WebSettings, webSettingsFrom } from './tools/web/web-settings.js';
import { WorktreeManager } from './worktrees/worktree-manager.js';

export interface RuntimeOptions {
  loaded: LoadedConfig;
  cwd: string;
  io?: ToolIO;
  /** `--sandbox`: overrides `agent.sandbox`. The tools' IO (given or not) is wrapped in it. */
  sandbox?: SandboxMode;
  /** Where the top-level agent's sandbox `ask` decisions go (default: refused). Children's park their task or are refused (`approval`). */
  approvals?: ApprovalGate;
  /**
   * `agent.approval` when config.yaml does not set it: `on-request` for `chat`, `never` (the
   * default) for `run`, `mcp` and `worker`.
   */
  approval?: ApprovalMode;
  store?: TaskStore;
  /** More toolsets (MCP servers…), usable by name in `agent.toolsets` and by children. */
  extraToolsets?: Toolset[];
  /** Replace provider construction (the offline demo model). */
  providerFactory?: ProviderFactory;
  /** Provider retry tuning (tests). */
  retryBaseDelayMs?: number;
  /** Opened for this runtime (MCP connections…): closed by `close()`, after the tasks stop. */
  resources?: { close(): Promise<void> }[];
  /** Where tasks run, how leases are held and ends heard (shared mode: `SharedDispatch.serviceOptions()`); default: this process. */
  taskParts?: Pick<TaskServiceOptions, 'dispatcher' | 'leaseKeeper' | 'ends' | 'leaseMs'>;
  /** Check that each task can run here (working directory, route, toolsets) before its child starts: tasks from other machines. */
  checkCapabilities?: boolean;
  /** Where a hosted search backend's key is read when `web.search.api_key` is absent (`BRAVE_API_KEY`…); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where agent runs are traced (`startTracing`); default none. Shut down by `close()`, after the tasks stop. */
  tracing?: Tracing;
}

/** Where a session's context stands (`Runtime.agent`): its latest compaction, and where new ones go. */
export interface ParentContext {
  /** The stored session's latest compaction: its context continues from it. */
  compaction?: CompactionRecord;
  /** Called with each new compaction (the session stores it with its conversation). */
  onCompaction?: (record: CompactionRecord) => void;
}

/**
 * Everything a session needs, built once from config: endpoints and their shared credential
 * pools, providers, toolsets, and the task service that runs children (the runtime is their
 * `ChildEnvironment`).
 */
export class Runtime implements ChildEnvironment {
  readonly config: ConfigFile;
  readonly configFile: string | undefined;
  readonly endpoints: ResolvedEndpoints;
  /** The routes that name an ACP agent: delegation asks them only for a route's runner (`runnerFor`). */
  private readonly agentRoutes: AcpRoutes;
  readonly cwd: string;
  /** Stored top-level conversations, kept by the task store's backend. */
  readonly sessions: SessionStore;
  /** The top-level agent's IO: the base IO inside the runtime's sandbox mode. */
  readonly io: ToolIO;
  /** The top-level agent's sandbox mode; children get it or a narrower one. */
  readonly sandboxMode: SandboxMode;
  /** `agent.approval` (or the command's default): whether a call outside the mode may be approved by a human. */
  readonly approvalMode: ApprovalMode;
  readonly tasks: TaskService;
  /** The top-level agent's toolsets (children's default): `agent.toolsets` and every MCP server's. */
  readonly agentToolsets: string[];
  /** `delegation.max_iterations`. */
  readonly childMaxIterations: number;
  readonly compaction: CompactionSection;
  /** Context windows of this process: a limit one child learns from a provider's error spares its siblings the failed call. */
  readonly contextWindows = new ContextWindows();
  /** Task budgets, read from the task store (`budget/budget-ledger.ts`). */
  readonly budgets: BudgetLedger;
  private readonly toolsets: Toolset[];
  /** MCP toolsets children do not get (`delegation.inherit_mcp_toolsets: false`). */
  private readonly parentOnlyToolsets: Set<string>;
  private readonly providers: EndpointProviders;
  private readonly options: RuntimeOptions;
  /** Every configured API key (longer than 8 characters: shorter ones are placeholders like `none`). */
  private readonly secrets: string[];
  private readonly ioPerMode: IOPerMode;
  /** The IO of agents working elsewhere than `cwd` (children in worktrees), one per working directory. */
  private readonly ioPerRoot = new Map<string, IOPerMode>();
  /** Children's git worktrees, under `$LEGATE_HOME/worktrees/`. */
  readonly worktrees: WorktreeManager;
  /** The web tools' settings (`web:`); `webSearchProblem` says why there is no `web_search`, when there is none. */
  readonly web: WebSettings;
  readonly webSearchProblem: string | undefined;
  /** Traces of the agents' runs (`noTracing` when off). */
  readonly tracing: Tracing;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.providers = new EndpointProviders({
      ...(options.providerFactory ? { factory: options.providerFactory } : {}),
      ...(options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: options.retryBaseDelayMs } : {}),
    });
    this.config = options.loaded.config;
    this.configFile = options.loaded.file;
    this.endpoints = resolveEndpoints(options.loaded);
    this.agentRoutes = new AcpRoutes(this.endpoints.acpRoutes);
    const endpoints = [this.endpoints.parent, this.endpoints.child, ...this.endpoints.routes.values()];
    const web = webSettingsFrom(this.config.web, options.env ?? process.env);
    this.web = web.settings;
    this.webSearchProblem = web.searchProblem;
    const searchKey = this.web.search && 'apiKey' in this.web.search ? [this.web.search.apiKey] : [];
    this.secrets = secretValues([...endpoints.flatMap((endpoint) => endpoint.keys), ...searchKey]);
    this.cwd = options.cwd;
    this.sandboxMode = options.sandbox ?? this.config.agent.sandbox;
    this.approvalMode = this.config.agent.approval ?? options.approval ?? 'never';
    const sandbox = this.config.sandbox;
    this.ioPerMode = new IOPerMode(
      options.io ?? createNodeIO(),
      {
        cwd: this.cwd,
        home: options.loaded.home,
        configFile: this.configFile,
        writableRoots: sandbox.writable_roots,
        network: sandbox.network,
        credentials: { denyRead: sandbox.deny_read, allowRead: sandbox.allow_read },
      },
      options.approvals,
    );
    this.io = this.ioPerMode.for(this.sandboxMode);
    this.worktrees = new WorktreeManager(options.loaded.home);
    this.toolsets = [...builtinToolsets(this.web), ...(options.extraToolsets ?? [])];
    const mcpToolsets = this.toolsets.filter((toolset) => toolset.mcp).map((toolset) => toolset.name);
    this.agentToolsets = [...new Set([...this.config.agent.toolsets, ...mcpToolsets])];
    this.childMaxIterations = this.config.delegation.max_iterations;
    this.compaction = this.config.compaction;
    this.parentOnlyToolsets = new Set(this.config.delegation.inherit_mcp_toolsets ? [] : mcpToolsets);
    const known = new Set([...this.toolsets.map((toolset) => toolset.name), ...delegationToolsetNames]);
    const unknown = this.agentToolsets.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new LegateError(
        'config_invalid',
        `${this.configFile ?? 'config'}: agent.toolsets: unknown toolset ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${[...known].join(', ')}`,
      );
    }
    const leaseMs = this.config.tasks.lease_seconds * 1000;
    this.tracing = options.tracing ?? noTracing;
    const child = new ChildRunner(this);
    const runner = this.tracing.enabled
      ? new TracedRunner(child, {
          tracing: this.tracing,
          providerOf: (task) => this.wireOf(task.route),
          spend: (task) => this.budgets.treeSpend(task),
        })
      : child;
    const store = options.store ?? new MemoryTaskStore();
    this.sessions = store.sessions;
    this.budgets = new BudgetLedger(store, costFromPrices(this.config.prices));
    this.tasks = new TaskService({
      store,
      runner: options.checkCapabilities ? new CapabilityCheckedRunner(runner, this.capabilities(known)) : runner,
      maxConcurrent: this.config.delegation.max_concurrent_children,
      childTimeoutSeconds: this.config.delegation.child_timeout_seconds,
      maxResumes: this.config.tasks.max_resumes,
      leaseMs,
      heartbeatMs: heartbeatMsFor(leaseMs),
      ...options.taskParts,
      approval: this.approvalMode,
      approvalTimeoutSeconds: this.config.agent.approval_timeout_seconds,
      costOf: costFromPrices(this.config.prices),
    });
    if (this.tracing.enabled) this.tasks.subscribe((event) => traceTaskEvent(this.tracing, event));
  }

  /**
   * Load now what the first model call would load: the SDK of every wire the endpoints use, and
   * Node's fetch. A worker calls it before taking tasks, so that its first tasks do not pay for it
   * (in the shared-mode throughput bench, a new worker's first wave ran about 0.7 s longer).
   */
  async warmUp(): Promise<void> {
    const wires = new Set([this.endpoints.parent, this.endpoints.child, ...this.endpoints.routes.values()].map((endpoint) => endpoint.provider));
    // Node loads its HTTP client (undici) on the first fetch: a data: URL needs no network.
    await Promise.all([...[...wires].map((wire) => providerEntry(wire).load()), fetch('data:,').then((response) => response.arrayBuffer())]);
  }

  /** What this runtime can run a task with: its routes and toolsets (for tasks spawned on other machines). */
  private capabilities(toolsets: ReadonlySet<string>): WorkerCapabilities {
    return {
      owner: () => this.tasks.owner,
      hasRoute: (route) => this.endpoints.routes.has(route) || this.agentRoutes.has(route),
      toolsets: () => toolsets,
    };
  }

  /** The provider for an endpoint; endpoints with the same keys share one credential pool. */
  provider(endpoint: EndpointSpec): Provider {
    return this.providers.for(endpoint);
  }

  /** The wire a child on `route` talks (`gen_ai.provider.name`): `acp` for an ACP agent's route, `unknown` for a route not configured here. */
  private wireOf(route: string | undefined): string {
    if (route !== undefined && this.agentRoutes.has(route)) return 'acp';
    try {
      return this.childEndpoint(route).provider;
    } catch {
      return 'unknown'; // its run fails with unknown_route, traced as such
    }
  }

  /** The runner of a child on a route that names an ACP agent; undefined for a model route (the child runs the agent loop). */
  runnerFor(route: string): TaskRunner | undefined {
    return this.agentRoutes.runnerFor(route);
  }

  /** The endpoint a child runs on: its route's, or the children's default. */
  childEndpoint(route: string | undefined): EndpointSpec {
    if (route === undefined) return this.endpoints.child;
    const endpoint = this.endpoints.routes.get(route);
    if (!endpoint) {
      const known = [...this.endpoints.routes.keys(), ...this.agentRoutes.names()];
      throw new LegateError(
        'unknown_route',
        `no route "${route}" in delegation.routes; known routes: ${known.length ? known.join(', ') : '(none configured)'}`,
      );
    }
    return endpoint;
  }

  /**
   * The IO of an agent in sandbox `mode` (a child's, as stored on its task): never wider than the
   * runtime's own mode, whatever the task says (a worker started with a narrower `--sandbox`).
   */
  ioFor(mode: SandboxMode | undefined, gate?: ApprovalGate, root?: string): ToolIO {
    return this.ioPerModeAt(root).for(this.effectiveSandbox(mode), gate);
  }

  /** The IOs of agents working in `root` (a child's worktree): its workspace is `root`, not the runtime's cwd. */
  private ioPerModeAt(root: string | undefined): IOPerMode {
    if (root === undefined || root === this.cwd) return this.ioPerMode;
    let perMode = this.ioPerRoot.get(root);
    if (!perMode) {
      const sandbox = this.config.sandbox;
      perMode = new IOPerMode(
        this.options.io ?? createNodeIO(),
        { cwd: root, home: this.options.loaded.home, configFile: this.configFile, writableRoots: sandbox.writable_roots, network: sandbox.network },
        this.options.approvals,
      );
      this.ioPerRoot.set(root, perMode);
    }
    return perMode;
  }

  /**
   * The top-level agent's IO for one session with its own seams: the base IO passed through
   * `wrap` (an ACP editor's file buffers), in the runtime's sandbox mode, its `ask` decisions going
   * to `gate` (the editor) instead of the runtime's approvals.
   */
  sessionIO(options: { wrap?: (base: ToolIO) => ToolIO; gate?: ApprovalGate }): ToolIO {
    return this.ioPerMode.build(this.sandboxMode, options);
  }

  private effectiveSandbox(mode: SandboxMode | undefined): SandboxMode {
    return mode !== undefined && isNarrowerOrEqual(mode, this.sandboxMode) ? mode : this.sandboxMode;
  }

  /** The tools of an agent in `session` (`agentTools`), with every configured API key masked in their output. */
  toolsFor(session: AgentScope): Tool[] {
    const allowed = agentTools(session, {
      toolsets: this.toolsets,
      parentOnly: this.parentOnlyToolsets,
      maxSpawnDepth: this.config.delegation.max_spawn_depth,
      delegationSession: (scope) => this.delegationSession(scope),
    });
    return this.secrets.length === 0 ? allowed : allowed.map((tool) => redactingTool(tool, this.secrets));
  }

  /**
   * `toolsFor`, kept current: the function returns the same array until a toolset changes its
   * tools (an MCP server's `tools/list_changed`), then the new list. For the agent loop's `tools`.
   */
  liveToolsFor(session: AgentScope): () => readonly Tool[] {
    let revision = -1;
    let tools: Tool[] = [];
    return () => {
      const now = this.toolsetsRevision();
      if (now !== revision) {
        revision = now;
        tools = this.toolsFor(session);
      }
      return tools;
    };
  }

  private toolsetsRevision(): number {
    let sum = 0;
    for (const toolset of this.toolsets) sum += toolset.revision ?? 0;
    return sum;
  }

  /** What the delegation tools of an agent at `depth` in `sessionId` act on (the MCP server's client is one, at depth 0). */
  delegationSession(session: AgentScope): DelegationSession {
    return {
      sessionId: sessionCaller(session.sessionId),
      depth: session.depth,
      toolsets: session.toolsets,
      maxSpawnDepth: this.config.delegation.max_spawn_depth,
      cwd: session.cwd ?? this.cwd,
      service: this.tasks,
      isolation: this.config.delegation.isolation,
      routeIsolation: (route) => this.config.delegation.routes[route]?.isolation,
      worktrees: this.worktrees,
      // An ACP agent's model is its own business: the task records its route's (`AcpRoutes.childModel`).
      childModel: (route) => (route === undefined ? undefined : this.agentRoutes.childModel(route)) ?? this.childEndpoint(route).model,
      sandbox: this.effectiveSandbox(session.sandbox),
      routeSandbox: (route) => {
        const config = this.config.delegation.routes[route];
        return config && 'sandbox' in config ? config.sandbox : undefined;
      },
      prices: this.config.prices,
      maxSummaryChars: this.config.delegation.max_summary_chars,
      reportsUsage,
      budgets: this.budgets,
      ...(this.childBudget ? { childBudget: this.childBudget } : {}),
      ...(this.tracing.enabled ? { traceparent: (callId: string) => this.tracing.traceparentOf(session.sessionId, callId) } : {}),
    };
  }

  private get childBudget(): ReturnType<typeof budgetFrom> {
    return budgetFrom(this.config.delegation.budget);
  }

  /** The top-level agent of a session. */
  agent(sessionId: string, context: ParentContext = {}): AgentSetup {
    const parent = this.endpoints.parent;
    const settings = this.compaction;
    const provider = this.provider(parent);
    // The parent compacts like a child (its window configured, learned or the table's; unknown:
    // reactive only); its hand-offs end with its tasks.
    const windows = this.contextWindows;
    const at = { baseUrl: parent.baseUrl, model: parent.model, contextWindow: parent.contextWindow };
    const prepareContext = compactingContext({
      provider,
      model: settings.model ?? parent.model,
      contextWindow: windows.windowFor(at)?.window ?? Number.MAX_SAFE_INTEGER,
      onLearned: (window) => windows.learn(at.baseUrl, at.model, window),
      reserveTokens: settings.reserve_tokens,
      threshold: settings.threshold,
      keepToolTokens: settings.keep_tool_tokens,
      keepRecentTokens: settings.keep_recent_tokens,
      ...(context.compaction ? { latest: context.compaction } : {}),
      ...(context.onCompaction ? { onRecord: context.onCompaction } : {}),
      note: async () => taskHandlesNote(await this.tasks.list(sessionId)),
    });
    return {
      prepareContext,
      provider,
      model: parent.model,
      system: this.config.agent.system_prompt ?? defaultSystemPrompt(this.cwd, this.agentToolsets),
      tools: this.liveToolsFor({ sessionId, depth: 0, toolsets: this.agentToolsets }),
      maxIterations: this.config.agent.max_iterations,
      maxTokens: parent.maxTokens,
      guard: this.budgets.sessionGuard(sessionId),
      requestOptions: requestOptionsFor(parent, sessionId),
    };
  }

  async close(): Promise<void> {
    try {
      await this.tasks.close();
      for (const resource of this.options.resources ?? []) await resource.close().catch(() => {}); // closing: one resource's failure does not keep the others open
      this.ioPerMode.close();
      for (const perMode of this.ioPerRoot.values()) perMode.close();
    } finally {
      // Last: the spans of the tasks just handed back are ended by now.
      await this.tracing.shutdown();
    }
  }
}

/**
 * The tool with every configured API key masked in its output: a child running `env` must not copy
 * a key into its transcript, state.db, or the requests of a route to another endpoint.
 */
function redactingTool(tool: Tool, secrets: string[]): Tool {
  return {
    ...tool,
    async execute(args, context) {
      const output = await tool.execute(args, context);
      return typeof output === 'string' ? redactSecrets(output, secrets) : { ...output, content: redactSecrets(output.content, secrets) };
    },
  };
}
