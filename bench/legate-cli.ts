import { main } from '../src/cli/main.js';

/**
 * The `legate` command as the bench builds it (`bench/dist/src/…`), so that `tsc -p
 * bench/tsconfig.json` alone gives the shared-mode benchmarks a CLI: what bin/legate.js does for
 * the npm build.
 */
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`legate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
