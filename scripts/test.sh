#!/usr/bin/env bash
# `npm test`: build dist/, then run vitest with the static checks (typecheck, lint, import cycles)
# beside it, on the CPU vitest leaves idle while its e2e files wait on processes and timers
# (about 20 s of the gate). Fails when either fails; the checks' output is printed after the tests'.
set -uo pipefail
cd "$(dirname "$0")/.."
npm run --silent build || exit 1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
(npm run --silent typecheck && npm run --silent lint && npm run --silent cycles) >"$log" 2>&1 &
checks=$!
npx vitest run "$@"
tests=$?
wait "$checks"
checked=$?
echo
echo "static checks (typecheck, lint, cycles): $([[ $checked -eq 0 ]] && echo passed || echo FAILED)"
cat "$log"
((tests == 0 && checked == 0))
