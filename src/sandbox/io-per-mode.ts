import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolIO } from '../tools/tool.js';
import type { ApprovalGate } from './approval-gate.js';
import type { SandboxMode } from './modes.js';
import { createSandboxedIO } from './sandboxed-io.js';
import { sandboxSettings, type SandboxSettingsInput } from './settings.js';

/**
 * The tool IO of each sandbox mode a runtime's agents run in (the parent's, and narrower ones its
 * children were given), built on first use over one base IO. They share one private temporary
 * directory, created on first use and removed by `close`.
 */
export class IOPerMode {
  private readonly ios = new Map<SandboxMode, ToolIO>();
  private tempDir: string | undefined;

  constructor(
    private readonly base: ToolIO,
    private readonly input: Omit<SandboxSettingsInput, 'mode' | 'tempDir'>,
    private readonly gate?: ApprovalGate,
  ) {}

  for(mode: SandboxMode): ToolIO {
    let io = this.ios.get(mode);
    if (!io) {
      if (mode === 'danger-full-access') {
        io = this.base;
      } else {
        this.tempDir ??= mkdtempSync(join(tmpdir(), 'legate-sandbox-'));
        const settings = sandboxSettings({ ...this.input, mode, tempDir: this.tempDir });
        io = createSandboxedIO(this.base, { settings, ...(this.gate ? { gate: this.gate } : {}) });
      }
      this.ios.set(mode, io);
    }
    return io;
  }

  close(): void {
    if (this.tempDir) rmSync(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
    this.ios.clear();
  }
}
