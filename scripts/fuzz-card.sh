#!/usr/bin/env bash
# Fuzzes the APDU parser and the card (cargo fuzz, libFuzzer) for a bounded time:
# FUZZ_SECONDS per target (default 60). Installs cargo-fuzz from crates.io into
# ~/.cargo/bin when it is missing. The machine has one stable toolchain:
# RUSTC_BOOTSTRAP=1 lets it take the sanitizer flags cargo fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== fuzz-card.sh: installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/card fuzz/corpus/apdu
cp -n fuzz/seeds/card/* fuzz/corpus/card/ 2>/dev/null || true
for target in apdu card; do
    echo "== fuzz-card.sh: $target for ${seconds} s"
    cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=1024 -print_final_stats=1 2>&1 \
        | grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done|ERROR|panicked|SUMMARY' || true
    # cargo fuzz exits non-zero on a crash; grep above only trims the output.
    test "${PIPESTATUS[0]}" -eq 0
done
