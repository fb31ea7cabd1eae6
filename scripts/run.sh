#!/usr/bin/env bash
# The main job: inspect a VPP API tree (files, message counts, versions, CRC check).
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
echo "== API tree: $tree"
cargo run --quiet --release --locked -p vppapi-gen -- ls "$tree"
cargo run --quiet --release --locked -p vppapi-gen -- crc "$tree"
