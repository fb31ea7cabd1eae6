#!/usr/bin/env bash
# Runs every test of the workspace, installing what the tests need first.
#
# - a Python venv (.venv-papi) with vpp_papi 2.4.2, VPP's official Python binding, used as the
#   independent oracle by differential tests (VPPAPI_PAPI_PYTHON points the tests at it);
# - etcd (Debian's etcd-server) for the fleet agent's tests, which start their own etcd on
#   127.0.0.1 with free ports and a temporary data dir (no system service is started), and
#   protoc (Debian's protobuf-compiler), which the etcd-client crate's build script needs;
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

# etcd and protoc: installed when missing (as root, or through sudo), a no-op when present.
apt_pkgs=()
command -v etcd >/dev/null 2>&1 || apt_pkgs+=(etcd-server)
command -v protoc >/dev/null 2>&1 || apt_pkgs+=(protobuf-compiler)
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
    echo "== installing ${apt_pkgs[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    # policy-rc.d 101: the package must not start etcd as a system service.
    if [ -d /usr/sbin ] && [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${apt_pkgs[@]}"
fi
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
