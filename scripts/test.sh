#!/usr/bin/env bash
# maina's test command: installs what the tests need, then runs every test suite
# on the embedded default (SQLite). What it installs, and where:
#   - a Python virtual environment in ./.venv with python-stdnum from PyPI (the
#     independent oracle for My Number check digits); Debian's python3-venv first,
#     when run as root on a machine whose python3 lacks venv;
#   - aiosmtpd (PyPI, pinned) in the same .venv: the SMTP server the e-mail tests
#     start and stop; and pillow (PyPI, pinned), which cuts the browser test's
#     portrait;
#   - scikit-image's wheel (PyPI, pinned) downloaded into .venv/wheels, only to take
#     its public-domain astronaut.png into .venv/testdata for the photo checks;
#   - schemathesis (PyPI, pinned) in the same .venv, to fuzz the API from its
#     OpenAPI document (scripts/fuzz-api.sh);
#   - Debian's chromium package (when missing and run as root) and playwright-core
#     and openid-client from npm in tests/e2e/node_modules, for the page tests in
#     headless Chromium and the relying party of the sign-in test;
#   - Debian's pcscd, opensc, vsmartcard-vpcd (the smart-card stack the card tests
#     drive), libpcsclite-dev, libssl-dev and pkg-config (to build the PC/SC and
#     OpenSSL bindings) and openssl (the outside checker of certificates, CRLs and
#     OCSP), when missing and run as root; and it starts pcscd when it is not running;
#   - Debian's fonts-ipaexfont-gothic (the Japanese font the notice letters embed),
#     poppler-utils (pdftotext, pdftoppm, pdffonts) and zbar-tools (zbarimg) to
#     read the letters back, when missing and run as root.
# Nothing else is installed system-wide. `.ci/run` runs this and, in addition, the store
# suite against PostgreSQL, clippy and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test.sh: Python venv .venv with python-stdnum (oracle for check digits)"
if [ ! -x .venv/bin/python ]; then
    if ! python3 -m venv .venv 2>/dev/null; then
        # Debian splits venv out of python3; install it when we may.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "== test.sh: installing Debian's python3-venv"
            apt-get update -qq && apt-get install -y -qq python3-venv
        fi
        rm -rf .venv
        python3 -m venv .venv
    fi
fi
if ! .venv/bin/python -c 'import stdnum.jp.in_' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check 'python-stdnum>=2'
fi
echo "== test.sh: aiosmtpd in .venv (a real SMTP server for the e-mail tests)"
if ! .venv/bin/python -c 'import aiosmtpd' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
fi
if ! .venv/bin/python -c 'import PIL' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check 'pillow==11.3.0'
fi
export MAINA_PYTHON="$PWD/.venv/bin/python"

echo "== test.sh: a portrait for the photo checks (NASA's public-domain astronaut.png, from scikit-image's wheel on PyPI, into .venv/testdata)"
if [ ! -f .venv/testdata/astronaut.png ]; then
    mkdir -p .venv/wheels .venv/testdata
    .venv/bin/pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        -d .venv/wheels 'scikit-image==0.26.0'
    .venv/bin/python - <<'PY'
import glob, zipfile
wheel = glob.glob(".venv/wheels/scikit_image-0.26.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(".venv/testdata/astronaut.png", "wb") as out:
    out.write(z.read("skimage/data/astronaut.png"))
PY
fi
export MAINA_TESTDATA="$PWD/.venv/testdata"

echo "== test.sh: Debian packages for the card, PKI and notice tests"
missing=()
for package in pcscd opensc vsmartcard-vpcd libpcsclite-dev libssl-dev pkg-config openssl \
    fonts-ipaexfont-gothic poppler-utils zbar-tools; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== test.sh: installing Debian's ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "missing Debian packages: ${missing[*]} (apt-get install them as root)" >&2
        exit 1
    fi
fi
if ! pgrep -x pcscd >/dev/null; then
    echo "== test.sh: starting pcscd (the PC/SC daemon; vpcd listens on 127.0.0.1:35963)"
    pcscd
fi

echo "== test.sh: cargo test --workspace (unit, property, oracle, store on SQLite, end-to-end)"
cargo test --workspace --locked "$@"

echo "== test.sh: API fuzzing from the OpenAPI document (no 5xx allowed)"
bash scripts/fuzz-api.sh

echo "== test.sh: pages in headless Chromium (tests/e2e, playwright-core from npm)"
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== test.sh: installing Debian's chromium"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    else
        echo "chromium is missing: install Debian's chromium package (apt-get install chromium)" >&2
        exit 1
    fi
fi
(cd tests/e2e && npm ci --no-audit --no-fund --silent)
MAINA="$PWD/target/debug/maina" node tests/e2e/console.test.mjs
echo "== test.sh: applying online in headless Chromium (tests/e2e/apply.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/apply.test.mjs
echo "== test.sh: the card's path in headless Chromium and PC/SC (tests/e2e/pickup.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/pickup.test.mjs
echo "== test.sh: loss and suspension in headless Chromium and PC/SC (tests/e2e/suspension.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/suspension.test.mjs
echo "== test.sh: PIN reset, chip update and renewal on the same chip in PC/SC and headless Chromium (tests/e2e/pin_reset.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/pin_reset.test.mjs
echo "== test.sh: signing in with the card: openid-client, PC/SC and headless Chromium (tests/e2e/oidc.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/oidc.test.mjs
echo "== test.sh: the resident portal in headless Chromium and PC/SC (tests/e2e/portal.test.mjs)"
MAINA="$PWD/target/debug/maina" node tests/e2e/portal.test.mjs
