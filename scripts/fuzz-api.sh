#!/usr/bin/env bash
# Fuzzes the JSON API from its own OpenAPI document with schemathesis (PyPI, in
# ./.venv): every operation, with generated valid and invalid inputs, logged in as a
# supervisor of the demo municipality. Passes only if no answer is a 5xx.
set -euo pipefail
cd "$(dirname "$0")/.."
MAINA=${MAINA:-target/debug/maina}
[ -x "$MAINA" ] || cargo build --locked -p maina-cli
if ! .venv/bin/python -c 'import schemathesis' 2>/dev/null; then
    echo "== fuzz-api.sh: installing schemathesis into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
data=$(mktemp -d)
server=""
cleanup() {
    # Wait for the server to stop: it writes its last audit checkpoint on the way out.
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT
"$MAINA" --data "$data" demo --no-serve --residents 50 >/dev/null
printf 'fuzz password 2026\n' | "$MAINA" --data "$data" officer add fuzzer --role supervisor --municipality 131016 --password-stdin >/dev/null
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$MAINA" --data "$data" serve --listen "127.0.0.1:$port" --insecure-cookies >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
token=$(curl -fs -X POST -H 'content-type: application/json' \
    -d '{"username":"fuzzer","password":"fuzz password 2026"}' \
    "http://127.0.0.1:$port/api/v1/login" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["token"])')
echo "== fuzz-api.sh: schemathesis against http://127.0.0.1:$port/api/v1/openapi.json"
.venv/bin/schemathesis run "http://127.0.0.1:$port/api/v1/openapi.json" \
    --checks not_a_server_error \
    --max-examples "${FUZZ_EXAMPLES:-25}" \
    --exclude-path /api/v1/logout \
    --header "Authorization: Bearer $token" \
    --header "X-Purpose: fuzzing"
