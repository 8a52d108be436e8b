#!/usr/bin/env bash
# Parley's test command: from a fresh clone, install what is missing, build, and run everything.
#
#   scripts/test.sh
#
#   1. scripts/deps.sh --bench          Debian + npm packages (only what is missing)
#   1b. the operation table             scripts/gen_operations.py regenerates it into a scratch folder and
#                                       each generated file must equal the checked-in one (one pass or one
#                                       failure; the spec is ../shared/spec, SPEC=path overrides)
#   2. make -j2 && make -j2 unit        build/parley and the cmocka unit binaries
#   3. BUILD=build tests/run.sh         unit + end-to-end suite
#   3b. the end-to-end suite again on PostgreSQL, when scripts/deps.sh --pg can install it: a throwaway
#      cluster (scripts/pg.sh) on loopback, every server on a fresh database (PARLEY_TEST_PG), plus the
#      multi-instance test (two servers, one database), and the store contract's PostgreSQL group
#      (build/tests/test_store_contract on a fresh database of the same cluster)
#   4. make -j2 asan                    the same suite, built with ASan + UBSan (build-asan/)
#   5. make -j2 fuzz                    (when clang is there) each libFuzzer target for FUZZ_SECONDS
#                                       (default 10) on tests/fuzz/corpus/<target>/
#   6. bench/run.sh --tiny [--pg]       the benchmark in a few seconds, so that it cannot rot
#
# Every count is added up; the last line is `N passed, N failed`; the exit status is non-zero on
# any failure. Environment: FUZZ_SECONDS (default 10), SKIP_ASAN=1, SKIP_FUZZ=1, SKIP_BENCH=1, SKIP_PG=1,
# SKIP_GEN=1.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
JOBS=${JOBS:-2}

passed=0
failed=0
problems=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parley-test.XXXXXX")
pgdir=
trap 'rm -rf "$tmp"; [ -z "$pgdir" ] || bash scripts/pg.sh stop "$pgdir"' EXIT

step() { printf '\n##### %s\n' "$*"; }
fail() { # fail WHAT: one failure
    failed=$((failed + 1))
    problems+=("$1")
    echo "test.sh: FAILED: $1"
}
finish() {
    step "total"
    for m in "${problems[@]}"; do echo "  FAILED: $m"; done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}
# add_counts LOG WHAT: add the last `N passed, N failed` line of LOG; none at all is one failure.
add_counts() {
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    if [ -z "$line" ]; then
        fail "$2 (no summary line)"
        return
    fi
    p=${line%% passed*}
    f=${line#*, }
    f=${f%% failed*}
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -gt 0 ] && problems+=("$2: $f failed")
    return 0
}

step "dependencies (scripts/deps.sh --bench)"
if ! bash scripts/deps.sh --bench; then
    fail "scripts/deps.sh"
    finish
fi

if [ "${SKIP_GEN:-0}" != 1 ]; then
    step "operation table (scripts/gen_operations.py --out, diff against the checked-in files)"
    # A hand edit of a generated file, or a generator change without `make gen`, shows here as a diff.
    if ! command -v python3 >/dev/null 2>&1; then
        fail "operation table: python3 is not installed"
    elif ! python3 scripts/gen_operations.py --out "$tmp/gen"; then
        fail "operation table: scripts/gen_operations.py failed"
    else
        same=1
        for f in src/api/operations.gen.h src/api/operations.gen.c tests/operations.gen.json; do
            diff -u "$f" "$tmp/gen/$f" || same=0
        done
        if [ "$same" = 1 ]; then
            echo "operation table: the checked-in files are what make gen writes"
            passed=$((passed + 1))
        else
            fail "operation table: the checked-in files differ from what make gen writes (run make gen)"
        fi
    fi
fi

if [ "${SKIP_FORMAT:-0}" != 1 ]; then
    step "format (make format-check: clang-format and .clang-format)"
    if make -s format-check; then
        echo "format: every hand-written C file is as clang-format writes it"
        passed=$((passed + 1))
    else
        fail "format: run make format"
    fi
fi

step "build (make -j$JOBS)"
if ! make -j"$JOBS"; then
    fail "make"
    finish
fi
step "unit test binaries (make -j$JOBS unit)"
# -k: build every unit binary that compiles, so one broken file does not hide the others.
make -j"$JOBS" -k unit || fail "make unit"

step "unit + e2e (BUILD=build tests/run.sh)"
BUILD=build bash tests/run.sh 2>&1 | tee "$tmp/run.log"
add_counts "$tmp/run.log" "tests/run.sh (build)"

have_pg=0
if [ "${SKIP_PG:-0}" != 1 ]; then
    step "e2e on PostgreSQL (scripts/deps.sh --pg, scripts/pg.sh, PARLEY_TEST_PG)"
    if ! bash scripts/deps.sh --pg; then
        echo "test.sh: PostgreSQL cannot be installed here: the PostgreSQL run is skipped"
    else
        # the cluster's folder must be reachable by the postgres user: not inside the 0700 $tmp
        pgdir=$(mktemp -d "${TMPDIR:-/tmp}/parley-test-pg.XXXXXX")
        rmdir "$pgdir"
        if ! pg_url=$(bash scripts/pg.sh start "$pgdir"); then
            fail "scripts/pg.sh start"
        else
            have_pg=1
            PARLEY_TEST_PG=$pg_url PARLEY_BIN=$PWD/build/parley timeout -k 10 "${E2E_TIMEOUT:-900}" \
                node --test --test-concurrency=1 --test-reporter=tap tests/e2e/ </dev/null 2>&1 | tee "$tmp/pg.log"
            rc=${PIPESTATUS[0]}
            # node:test's counts, as tests/run.sh reads them (cancelled counts as failed)
            p=$(sed -nE 's/^# pass ([0-9]+).*/\1/p' "$tmp/pg.log" | tail -n 1)
            f=$(sed -nE 's/^# fail ([0-9]+).*/\1/p' "$tmp/pg.log" | tail -n 1)
            c=$(sed -nE 's/^# cancelled ([0-9]+).*/\1/p' "$tmp/pg.log" | tail -n 1)
            # a failed before/after hook fails its suite without counting as a failed test
            h=$(grep -c "failureType: 'hookFailed'" "$tmp/pg.log")
            f=$((${f:-0} + ${c:-0} + h))
            if [ -z "$p" ] || { [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; }; then f=$((f + 1)); fi
            echo "${p:-0} passed, $f failed" >"$tmp/pg.count"
            add_counts "$tmp/pg.count" "e2e on PostgreSQL"
            # the PostgreSQL groups of the store contract, the released schema, deferred statements and the
            # message index counter (skipped without PARLEY_TEST_PG in tests/run.sh)
            for t in store_contract migrations store_deferred messages_store; do
                PARLEY_TEST_PG=$pg_url timeout -k 10 300 build/tests/test_$t </dev/null 2>&1 | tee "$tmp/$t.log"
                rc=${PIPESTATUS[0]}
                p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$tmp/$t.log" | awk '{ s += $1 } END { print s + 0 }')
                f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$tmp/$t.log" | awk '{ s += $1 } END { print s + 0 }')
                if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
                echo "$p passed, $f failed" >"$tmp/$t.count"
                add_counts "$tmp/$t.count" "test_$t on PostgreSQL"
            done
        fi
        bash scripts/pg.sh stop "$pgdir"
        pgdir=
    fi
fi

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    step "unit + e2e under ASan + UBSan (make -j$JOBS asan)"
    # The Makefile's asan target builds build-asan/ with its sanitizer CFLAGS and runs tests/run.sh.
    make -j"$JOBS" asan 2>&1 | tee "$tmp/asan.log"
    add_counts "$tmp/asan.log" "tests/run.sh (build-asan)"
fi

if [ "${SKIP_FUZZ:-0}" != 1 ] && command -v clang >/dev/null 2>&1; then
    shopt -s nullglob
    fuzz_src=(tests/fuzz/*.c)
    shopt -u nullglob
    if [ "${#fuzz_src[@]}" -eq 0 ]; then
        step "fuzz: no targets in tests/fuzz/"
    else
        step "fuzz targets (make -j$JOBS fuzz; ${FUZZ_SECONDS}s each)"
        if ! make -j"$JOBS" -k fuzz >"$tmp/fuzz-build.log" 2>&1; then
            cat "$tmp/fuzz-build.log"
            fail "make fuzz"
        fi
        for src in "${fuzz_src[@]}"; do
            name=$(basename "$src" .c)
            bin=build-fuzz/fuzz/$name
            if [ ! -x "$bin" ]; then
                fail "fuzz/$name (not built)"
                continue
            fi
            # New inputs go to a scratch corpus (first directory); the committed seeds are read only.
            work=$tmp/fuzz-$name
            mkdir -p "$work/corpus"
            dirs=("$work/corpus")
            [ -d "tests/fuzz/corpus/$name" ] && dirs+=("tests/fuzz/corpus/$name")
            timeout -k 10 $((FUZZ_SECONDS * 2 + 120)) "$bin" -max_total_time="$FUZZ_SECONDS" \
                -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" "${dirs[@]}" \
                </dev/null >"$work/log" 2>&1
            rc=$?
            if [ "$rc" -eq 0 ]; then
                runs=$(grep -oE '^Done [0-9]+ runs' "$work/log" | tail -n 1)
                echo "fuzz/$name: ok (${runs:-finished} in ${FUZZ_SECONDS}s)"
                passed=$((passed + 1))
            else
                tail -n 60 "$work/log"
                for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
                    [ -f "$a" ] || continue
                    echo "fuzz/$name: reproducer ($(basename "$a")), base64:"
                    head -c 4096 "$a" | base64 -w 76
                done
                fail "fuzz/$name (exit status $rc)"
            fi
        done
    fi
fi

if [ "${SKIP_BENCH:-0}" != 1 ]; then
    bench_args=(--tiny)
    [ "$have_pg" = 1 ] && bench_args+=(--pg)
    step "benchmark, tiny configuration (bench/run.sh ${bench_args[*]})"
    if timeout -k 10 600 bash bench/run.sh "${bench_args[@]}" </dev/null; then
        passed=$((passed + 1))
    else
        fail "bench/run.sh --tiny"
    fi
fi

finish
