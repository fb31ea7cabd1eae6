#!/usr/bin/env bash
# The main job, end to end:
#  1. inspect an API tree (files, message counts, versions) and re-derive every CRC;
#  2. talk to VPP over its API socket with the async runtime and the generated bindings
#     (create a loopback, bring it up, address it, dump, read the stats segment, clean up).
#     When no VPP listens at /run/vpp/api.sock, the simulator (vpp-sim) stands in for it;
#  3. a short eVPN flow with evpn-tools (bridge domain, BVI, bind, idempotent re-run, release,
#     cleanup) against the same VPP, or against a vpp-sim started on a temporary socket.
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
cargo build --quiet --locked -p vppapi-gen -p vppapi-quickstart -p evpn-tools -p vpp-sim
bin="${CARGO_TARGET_DIR:-target}/debug"
echo "== API tree: $tree"
"$bin/vppapi-gen" ls "$tree" | tail -n 3
"$bin/vppapi-gen" crc "$tree"
echo "== talking to VPP"
"$bin/vppapi-quickstart"

echo "== an eVPN gateway flow (evpn-tools)"
sock=/run/vpp/api.sock
stats=/run/vpp/stats.sock
lbdir=$(mktemp -d)
trap 'rm -rf "$lbdir"' EXIT
if [ ! -S "$sock" ]; then
    tmp=$(mktemp -d)
    sock="$tmp/api.sock"
    stats="$tmp/stats.sock"
    "$bin/vpp-sim" --socket "$sock" --stats-socket "$tmp/stats.sock" 2>/dev/null &
    sim=$!
    trap 'kill $sim 2>/dev/null; rm -rf "$tmp" "$lbdir"' EXIT
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    echo "(no VPP at /run/vpp/api.sock: vpp-sim on $sock)"
fi
evpn() { echo "\$ evpn-tools $*"; "$bin/evpn-tools" --socket "$sock" "$@"; }
# BD 9100 and loop9100: ids an operator is unlikely to use; everything is removed at the end.
evpn info
evpn bd ensure --id 9100 --no-uu-flood --mac-age 5
evpn bvi create --name loop9100 --bd 9100 --mac 02:00:00:00:91:00 --dry-run
evpn bvi create --name loop9100 --bd 9100 --mac 02:00:00:00:91:00
evpn bvi bind --if loop9100 --vmac 42:6c:fa:d6:91:00 --addr 172.16.91.1/24 --addr fec0::9100:1/64 --garp 1@0s
evpn bvi bind --if loop9100 --vmac 42:6c:fa:d6:91:00 --addr 172.16.91.1/24 --addr fec0::9100:1/64 --garp none
evpn bd show --id 9100
evpn bvi release --if loop9100
evpn bvi delete --if loop9100
evpn bd delete --id 9100

echo "== a load-balancer flow (evpn-tools lb)"
# VIP 2001:db8:9100::1 inside the managed prefix 2001:db8:9100::/64, removed at the end with
# --prune; the global lb_conf (GRE source addresses) is set only on the simulator, never on a
# VPP that may already carry traffic.
vips="vips:
  - { prefix: '2001:db8:9100::1/128', protocol: tcp, port: 80, encap: gre6, new-len: 1024,
      as: ['2001:db8:91::1', '2001:db8:91::2', '2001:db8:91::3'] }"
conf=""
[ -n "${sim:-}" ] && conf="conf: { ip4-src: 192.0.2.254, ip6-src: '2001:db8::fe' }"
printf '%s\nmanaged-prefixes: [2001:db8:9100::/64]\n%s\n' "$conf" "$vips" > "$lbdir/lb.yaml"
printf 'managed-prefixes: [2001:db8:9100::/64]\n' > "$lbdir/empty.yaml"
evpn lb sync --config "$lbdir/lb.yaml" --dry-run
evpn lb sync --config "$lbdir/lb.yaml"
evpn lb sync --config "$lbdir/lb.yaml"          # a second run: 0 operations
evpn lb status --vip 2001:db8:9100::1/128
evpn maglev table --compare-vip 2001:db8:9100::1/128
[ -S "$stats" ] && evpn lb stats --stats-socket "$stats" --vip 2001:db8:9100::1/128
evpn lb sync --config "$lbdir/empty.yaml" --prune
