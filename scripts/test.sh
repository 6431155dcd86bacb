#!/usr/bin/env bash
# The test command (README): static checks, then every unit and integration test against real
# servers (FerretDB and nats-server started by the tests). Prints `N passed, N failed` last.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .stackyard
passed=0; failed=0
check() {
  local name=$1; shift
  if "$@" > .stackyard/check.log 2>&1; then
    printf 'check ok:     %s\n' "$name"; passed=$((passed + 1))
  else
    printf 'check FAILED: %s\n' "$name"; sed 's/^/    /' .stackyard/check.log | tail -40; failed=$((failed + 1))
  fi
}
[ -x .stackyard/bin/ferretdb ] || { echo "test: FerretDB is not built: run 'bash scripts/setup.sh' first" >&2; exit 1; }

check "typecheck (tsc strict, whole workspace)" npx tsc -p tsconfig.json
check "proto: buf lint + generated code up to date" bash -c 'bash scripts/proto-generate.sh && git diff --exit-code --stat -- libs/proto/src/gen && test -z "$(git status --porcelain -- libs/proto/src/gen)"'
if git rev-parse --verify -q main >/dev/null; then
  check "proto: buf breaking against main (FILE rules)" bash -c 'cd proto && ../node_modules/.bin/buf breaking --against "../.git#branch=main,subdir=proto"'
fi
check "helm charts: lint --strict, template over ci values, schema rejections" bash scripts/check-charts.sh
check "dependency rule: domain imports no adapters or I/O" bash scripts/check-layers.sh

rm -f .stackyard/vitest.json
NO_COLOR=1 npx vitest run --reporter=default --reporter=json --outputFile=.stackyard/vitest.json "$@"
if [ -f .stackyard/vitest.json ]; then
  read -r vp vf < <(node -e 'const r=require("./.stackyard/vitest.json");console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0) + (r.success||r.numFailedTests>0?0:1))')
else
  vp=0; vf=1
fi
passed=$((passed + vp)); failed=$((failed + vf))
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
