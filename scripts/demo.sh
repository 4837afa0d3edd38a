#!/usr/bin/env bash
# Runs maina on the embedded default (SQLite) with demo data, serving on
# http://127.0.0.1:8080. Building needs the PC/SC and OpenSSL headers: Debian's
# libpcsclite-dev, libssl-dev and pkg-config (and the Japanese font the card faces
# and notices embed, fonts-ipaexfont-gothic) are installed first when missing (as
# root); nothing else is installed. Extra arguments go to `maina demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for package in libpcsclite-dev libssl-dev pkg-config fonts-ipaexfont-gothic; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== demo.sh: installing Debian's ${missing[*]} (build headers)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "missing Debian packages: ${missing[*]} (apt-get install them as root)" >&2
        exit 1
    fi
fi
exec cargo run --release -p maina-cli -- demo "$@"
