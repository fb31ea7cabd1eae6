#!/usr/bin/env bash
# The main job, end to end:
#  1. inspect an API tree (files, message counts, versions) and re-derive every CRC;
#  2. talk to VPP over its API socket with the async runtime and the generated bindings
#     (create a loopback, bring it up, address it, dump, read the stats segment, clean up).
#     When no VPP listens at /run/vpp/api.sock, the simulator (vpp-sim) stands in for it.
#
# Tree: $1, else /usr/share/vpp/api when VPP is installed, else ../shared/vpp-api/26.06 beside the
# repo, else the small fixture tree in the repo.
set -euo pipefail
cd "$(dirname "$0")/.."
tree="${1:-}"
if [ -z "$tree" ]; then
    for t in /usr/share/vpp/api ../shared/vpp-api/26.06 api-json/tests/fixtures/tree; do
        if [ -d "$t" ]; then tree="$t"; break; fi
    done
fi
# One build of both programs (shared dependencies, both cores busy), in the dev profile: on a
# fresh clone this is what a user waits for before the first line.
echo "== building (first run on a fresh clone: about two minutes on 2 cores)"
cargo build --quiet --locked -p vppapi-gen -p vppapi-quickstart
bin="${CARGO_TARGET_DIR:-target}/debug"
echo "== API tree: $tree"
"$bin/vppapi-gen" ls "$tree" | tail -n 3
"$bin/vppapi-gen" crc "$tree"
echo "== talking to VPP"
"$bin/vppapi-quickstart"
