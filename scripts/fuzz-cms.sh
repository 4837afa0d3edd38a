#!/usr/bin/env bash
# Fuzzes the CMS signature parser and the signed-PDF reader (cargo fuzz, libFuzzer)
# for a bounded time: FUZZ_SECONDS per target (default 60), seeded with a valid
# signature and a signed PDF (fuzz/seeds/cms, fuzz/seeds/pdf_signature). Installs
# cargo-fuzz from crates.io into ~/.cargo/bin when it is missing; RUSTC_BOOTSTRAP=1
# lets the stable toolchain take the sanitizer flags cargo fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== fuzz-cms.sh: installing cargo-fuzz (crates.io)"
    cargo install cargo-fuzz --locked --quiet
fi
export RUSTC_BOOTSTRAP=1
for target in cms pdf_signature; do
    mkdir -p "fuzz/corpus/$target"
    cp -n "fuzz/seeds/$target"/* "fuzz/corpus/$target/" 2>/dev/null || true
    echo "== fuzz-cms.sh: $target for ${seconds} s"
    cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 2>&1 \
        | grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|Done|ERROR|panicked|SUMMARY' || true
    test "${PIPESTATUS[0]}" -eq 0
done
