import { inject } from 'vitest';

// Every temp directory a test makes (mkdtemp under os.tmpdir(), which reads TMPDIR on each call) lands in
// the run's root, which the global setup removes at the end: a leak in one test cannot pile up in /tmp.
// Child processes that inherit this environment use it too; the CLI helpers pass their own environment.
process.env.TMPDIR = inject('legateTempRoot');
