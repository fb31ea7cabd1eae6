#!/usr/bin/env bash
# Runs every test of the workspace, installing what the tests need first.
#
# - a Python venv (.venv-papi) with vpp_papi 2.4.2, VPP's official Python binding, used as the
#   independent oracle by differential tests (VPPAPI_PAPI_PYTHON points the tests at it);
# - then formatting and lint checks, and `cargo test` for the whole workspace.
#
# The real API trees and recordings are read from ../shared when present (VPP_API_ROOT,
# VPP_TRACES_ROOT override); tests fall back to fixtures in the repo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-papi
if ! "$venv/bin/python" -c 'import vpp_papi' 2>/dev/null; then
    echo "== setting up $venv with vpp_papi 2.4.2"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'vpp-papi==2.4.2'
fi
export VPPAPI_PAPI_PYTHON="$PWD/$venv/bin/python"
# One-shot builds gain nothing from incremental compilation (it costs time and disk), nor from
# full debug info (panics still name file and line; backtraces keep function names).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-0}"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
