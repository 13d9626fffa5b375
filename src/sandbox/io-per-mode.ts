import { randomBytes } from 'node:crypto';
import { mkdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolIO } from '../tools/tool.js';
import type { ApprovalGate } from './approval-gate.js';
import type { SandboxMode } from './modes.js';
import type { SandboxSettings } from './policy.js';
import { createSandboxedIO } from './sandboxed-io.js';
import { type SandboxSettingsInput, sandboxSettings } from './settings.js';

/**
 * The tool IO of each sandbox mode a runtime's agents run in (the parent's, and narrower ones its
 * children were given), built on first use over one base IO. They share one private temporary
 * directory, created before the first sandboxed command (so a runtime that runs none leaves
 * nothing behind) and removed by `close`.
 */
export class IOPerMode {
  private readonly ios = new Map<SandboxMode, ToolIO>();
  /** Each mode's settings, made real once (every child in a mode shares them, as the cached IOs do). */
  private readonly settings = new Map<SandboxMode, SandboxSettings>();
  private readonly tempDir = join(realpathSync(tmpdir()), `legate-sandbox-${process.pid}-${randomBytes(4).toString('hex')}`);

  constructor(
    private readonly base: ToolIO,
    private readonly input: Omit<SandboxSettingsInput, 'mode' | 'tempDir'>,
    private readonly gate?: ApprovalGate,
  ) {}

  /**
   * The IO of `mode`. With `gate`, a fresh one whose `ask` decisions go to that gate (a background
   * child's run: its task parks); without, the shared one using the runtime's gate.
   */
  for(mode: SandboxMode, gate?: ApprovalGate): ToolIO {
    if (gate && mode !== 'danger-full-access') return this.build(mode, { gate });
    let io = this.ios.get(mode);
    if (!io) {
      io = this.build(mode, {});
      this.ios.set(mode, io);
    }
    return io;
  }

  /**
   * A separate IO in `mode` (not cached): the base IO passed through `wrap` (an editor's file
   * buffers), its `ask` decisions going to `gate` instead of the runtime's. The policy checks each
   * path before the wrapped IO is asked.
   */
  build(mode: SandboxMode, options: { wrap?: (base: ToolIO) => ToolIO; gate?: ApprovalGate }): ToolIO {
    const inner = options.wrap ? options.wrap(this.base) : this.base;
    if (mode === 'danger-full-access') return inner;
    let settings = this.settings.get(mode);
    if (!settings) {
      settings = sandboxSettings({ ...this.input, mode, tempDir: this.tempDir });
      this.settings.set(mode, settings);
    }
    const prepare = (): void => void mkdirSync(this.tempDir, { recursive: true, mode: 0o700 });
    const gate = options.gate ?? this.gate;
    return createSandboxedIO(inner, { settings, prepare, ...(gate ? { gate } : {}) });
  }

  close(): void {
    rmSync(this.tempDir, { recursive: true, force: true });
    this.ios.clear();
    this.settings.clear();
  }
}
