#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for a bounded time (issue 7 item 3). Not part of CI:
# it needs a nightly toolchain and a few minutes. Exits non-zero when any target finds a crash;
# the crashing input is left in fuzz/artifacts/<target>/ for a regression test.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      default: 60 s, every target
#
# New inputs found while fuzzing go to a temporary corpus, so fuzz/corpus/ (the committed seeds)
# never grows; set FUZZ_CORPUS_DIR to keep them. Logs go to FUZZ_LOG_DIR (default: a temp dir).
set -euo pipefail

cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(token_verify form_basic realm_import)
fi

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "fuzz.sh: cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

logs="${FUZZ_LOG_DIR:-$(mktemp -d -t portcullis-fuzz-logs.XXXXXX)}"
mkdir -p "$logs"
cd fuzz
cargo +nightly fuzz build

failed=()
for target in "${targets[@]}"; do
    work="${FUZZ_CORPUS_DIR:-$(mktemp -d -t "portcullis-fuzz-$target.XXXXXX")}"
    mkdir -p "$work"
    extra=()
    if [ "$target" = token_verify ]; then
        extra+=("-max_len=20000") # past both length bounds (4 KiB shells, 16 KiB access tokens)
    fi
    if [ -f "dicts/$target.dict" ]; then
        extra+=("-dict=dicts/$target.dict")
    fi
    log="$logs/$target.log"
    echo "== $target: $seconds s (log: $log)"
    # libFuzzer writes new inputs into the first corpus directory and only reads the others.
    if cargo +nightly fuzz run "$target" "$work" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
        status=ok
    else
        status=CRASH
        failed+=("$target")
    fi
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
    stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' "$log" \
        | sed 's/^stat:://' | tr '\n' ' ' || true)
    echo "   $status ${done_line:-(no DONE line)}"
    echo "   $stats"
    if [ "$status" = CRASH ]; then
        grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written to' "$log" | head -n 8 | sed 's/^/   /'
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: crashes in: ${failed[*]} (inputs under fuzz/artifacts/; logs in $logs)" >&2
    exit 1
fi
echo "fuzz.sh: no crash in ${targets[*]} ($seconds s each)"
