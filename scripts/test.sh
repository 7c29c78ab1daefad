#!/usr/bin/env bash
# `npm test`: install the real components the tests need (when root), install node modules when
# missing, compile, then run every compiled test file with Node's test runner.
#
#   npm test                       every test file
#   npm test -- unit               files whose path contains "unit" (any number of filters)
#   npm test -- test/e2e/foo.test.ts dist/test/unit/bar.test.js   given files (source or compiled)
#   npm test -- e2e --test-name-pattern=hold    arguments starting with -- go to node --test
#
# Environment: POSTERN_DIST (output folder, default dist), POSTERN_TEST_CONCURRENCY (default 1: the end-to-end suites start real MTAs and a sendmail start was seen to fail when two suites ran at once),
# POSTERN_TEST_TIMEOUT (ms per test, default 300000), POSTERN_SKIP_DEPS=1 (skip the apt step),
# POSTERN_ALLOW_TYPE_ERRORS=1 (run the tests even when tsc reports type errors).
# Nothing is printed after the test runner: its summary is the last thing on screen.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
DIST="${POSTERN_DIST:-dist}"

if [ "$(id -u)" = 0 ] && [ "${POSTERN_SKIP_DEPS:-}" != 1 ]; then
  bash scripts/install-test-deps.sh
fi

if [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

build_ok=1
if [ "$DIST" = dist ]; then
  npm run --silent build || build_ok=0
else
  npx tsc -p . --outDir "$DIST" --tsBuildInfoFile "$DIST/.tsbuildinfo" || build_ok=0
fi
if [ "$build_ok" = 0 ]; then
  if [ "${POSTERN_ALLOW_TYPE_ERRORS:-}" = 1 ]; then
    echo "test.sh: tsc reported errors (POSTERN_ALLOW_TYPE_ERRORS=1: running the tests anyway)" >&2
  else
    echo "test.sh: build failed (set POSTERN_ALLOW_TYPE_ERRORS=1 to run the tests anyway)" >&2
    exit 1
  fi
fi

# Compiled test files whose source still exists (a deleted test leaves a stale .js in dist).
all=()
while IFS= read -r f; do
  src="${f#"$DIST"/}"
  src="${src%.js}.ts"
  [ -f "$src" ] && all+=("$f")
done < <(find "$DIST/test" -type f -name '*.test.js' 2>/dev/null | LC_ALL=C sort)

node_args=()
filters=()
files=()
for a in "$@"; do
  case "$a" in
    --*) node_args+=("$a") ;;
    *.test.ts)
      rel="${a#"$ROOT"/}"; rel="${rel#./}"
      files+=("$DIST/${rel%.ts}.js") ;;
    *.test.js)
      files+=("${a#./}") ;;
    *) filters+=("$a") ;;
  esac
done

selected=()
if [ "${#files[@]}" -gt 0 ]; then
  for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "test.sh: no compiled test $f" >&2; exit 1; }
    selected+=("$f")
  done
fi
if [ "${#filters[@]}" -gt 0 ]; then
  for f in "${all[@]}"; do
    for flt in "${filters[@]}"; do
      if [[ "${f#"$DIST"/}" == *"$flt"* ]]; then selected+=("$f"); break; fi
    done
  done
elif [ "${#files[@]}" -eq 0 ]; then
  selected=("${all[@]}")
fi

if [ "${#selected[@]}" -eq 0 ]; then
  echo "test.sh: no test files matched${filters[*]:+ (filters: ${filters[*]})}" >&2
  exit 1
fi

reporter=(--test-reporter=spec)
for a in "${node_args[@]}"; do
  case "$a" in --test-reporter*) reporter=() ;; esac
done

exec node --test \
  --test-concurrency="${POSTERN_TEST_CONCURRENCY:-1}" \
  --test-timeout="${POSTERN_TEST_TIMEOUT:-300000}" \
  "${reporter[@]}" "${node_args[@]}" "${selected[@]}" </dev/null
