#!/usr/bin/env bash
# Run every unit test binary in $BUILD/tests/ and the end-to-end suite against $BUILD/parley,
# print each suite's own output, and end with one aggregate line: `N passed, N failed`.
#
#   BUILD=build tests/run.sh          (what `make check` runs)
#   BUILD=build-asan tests/run.sh     (what `make asan` runs: ASan/UBSan options are set)
#
# Counting: cmocka's "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines (summed over the
# groups of a binary); node:test's "# pass N", "# fail N" and "# cancelled N" (cancelled = failed).
# A suite that exits non-zero (crash, sanitizer report, leak, time-out) without reporting a failed
# test counts as one failure; so does a binary that prints no cmocka summary at all.
# Exit status: 1 if anything failed, else 0.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) BUILD_ABS=$BUILD ;; *) BUILD_ABS=$ROOT/$BUILD ;; esac
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}  # seconds per unit binary
E2E_TIMEOUT=${E2E_TIMEOUT:-900}    # seconds for the whole e2e suite

case "$BUILD" in
*asan*)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
esac

passed=0
failed=0
problems=()
log=$(mktemp "${TMPDIR:-/tmp}/parley-run.XXXXXX")
trap 'rm -f "$log"' EXIT

# sum_matches REGEX FILE: sum of the first number captured by REGEX (ERE) on each matching line.
sum_matches() {
    sed -nE "s/$1/\\1/p" "$2" | awk '{ s += $1 } END { print s + 0 }'
}

# ---- unit tests -------------------------------------------------------------------------------
bins=()
if [ -d "$BUILD/tests" ]; then
    for f in "$BUILD"/tests/*; do
        [ -f "$f" ] && [ -x "$f" ] && bins+=("$f")
    done
fi
if [ "${#bins[@]}" -eq 0 ]; then
    echo "run.sh: no unit test binaries in $BUILD/tests (build them with: make BUILD=$BUILD unit)"
fi
for bin in "${bins[@]}"; do
    name=$(basename "$bin")
    echo "=== unit: $name"
    timeout -k 10 "$UNIT_TIMEOUT" "$bin" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    p=$(sum_matches '^\[  PASSED  \] ([0-9]+) test.*' "$log")
    f=$(sum_matches '^\[  FAILED  \] ([0-9]+) test.*' "$log")
    if ! grep -qE '^\[  (PASSED|FAILED)  \] [0-9]+ test' "$log"; then
        echo "run.sh: $name printed no cmocka summary (exit status $rc): counted as one failure"
        f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        [ "$rc" -eq 124 ] && why="timed out after ${UNIT_TIMEOUT}s" || why="exit status $rc"
        echo "run.sh: $name passed its tests but then failed ($why): counted as one failure"
        f=$((f + 1))
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -gt 0 ] && problems+=("unit/$name: $f failed")
done

# ---- end-to-end tests -------------------------------------------------------------------------
shopt -s nullglob
e2e=(tests/e2e/*.test.mjs tests/e2e/*.test.js tests/e2e/*.test.cjs)
shopt -u nullglob
if [ "${#e2e[@]}" -eq 0 ]; then
    echo "run.sh: no end-to-end tests in tests/e2e"
else
    echo "=== e2e: node --test tests/e2e/ (PARLEY_BIN=$BUILD_ABS/parley)"
    if ! command -v node >/dev/null 2>&1; then
        echo "run.sh: node is not installed (run scripts/deps.sh): e2e counted as one failure"
        failed=$((failed + 1))
        problems+=("e2e: node missing")
    elif [ ! -x "$BUILD_ABS/parley" ]; then
        echo "run.sh: $BUILD/parley is not built (make BUILD=$BUILD): e2e counted as one failure"
        failed=$((failed + 1))
        problems+=("e2e: no server binary")
    else
        [ -d node_modules ] || echo "run.sh: warning: node_modules is missing (run scripts/deps.sh)"
        PARLEY_BIN=$BUILD_ABS/parley timeout -k 10 "$E2E_TIMEOUT" \
            node --test --test-concurrency=1 --test-reporter=tap tests/e2e/ </dev/null 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        p=$(sum_matches '^# pass ([0-9]+).*' "$log")
        f=$(sum_matches '^# fail ([0-9]+).*' "$log")
        c=$(sum_matches '^# cancelled ([0-9]+).*' "$log")
        f=$((f + c))
        if ! grep -qE '^# pass [0-9]+' "$log"; then
            echo "run.sh: the e2e run printed no summary (exit status $rc): counted as one failure"
            f=$((f + 1))
        elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            [ "$rc" -eq 124 ] && why="timed out after ${E2E_TIMEOUT}s" || why="exit status $rc"
            echo "run.sh: the e2e run reported no failed test but failed ($why): counted as one failure"
            f=$((f + 1))
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$f" -gt 0 ] && problems+=("e2e: $f failed")
    fi
fi

echo "=== summary ($BUILD)"
for m in "${problems[@]}"; do echo "  FAILED: $m"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
