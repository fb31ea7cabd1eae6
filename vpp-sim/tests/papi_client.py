#!/usr/bin/env python3
"""Drives the simulator with vpp_papi (the official client) over its API socket.

Usage: papi_client.py API_JSON_DIR SOCKET. Exits non-zero on the first unexpected answer.
"""
import ipaddress
import sys

from vpp_papi import VPPApiClient

apidir, sock = sys.argv[1], sys.argv[2]
import glob, os
files = glob.glob(os.path.join(apidir, "**", "*.api.json"), recursive=True)
vpp = VPPApiClient(apifiles=files, server_address=sock, use_socket=True)
assert vpp.connect("papi-test") == 0


def ok(r, what):
    assert r.retval == 0, f"{what}: retval {r.retval}"
    return r


v = vpp.api.show_version()
assert v.version == "26.06-release", v
print("version", v.version)

# Interfaces
lo = ok(vpp.api.create_loopback(mac_address="02:00:00:00:00:aa"), "create_loopback")
sw = lo.sw_if_index
ok(vpp.api.sw_interface_set_flags(sw_if_index=sw, flags=1), "set_flags")
ok(vpp.api.sw_interface_set_mtu(sw_if_index=sw, mtu=[1500, 0, 0, 0]), "set_mtu")
ok(vpp.api.sw_interface_tag_add_del(is_add=True, sw_if_index=sw, tag="papi"), "tag")
ifs = vpp.api.sw_interface_dump(name_filter_valid=True, name_filter="loop")
assert len(ifs) == 1 and ifs[0].interface_name == "loop0", ifs
assert ifs[0].tag == "papi" and ifs[0].mtu[0] == 1500, ifs[0]
assert str(ifs[0].l2_address) == "02:00:00:00:00:aa", ifs[0].l2_address
assert int(ifs[0].flags) == 3, ifs[0].flags
print("interfaces", [(i.sw_if_index, i.interface_name) for i in vpp.api.sw_interface_dump()])

# Addresses
ok(vpp.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="10.0.0.1/24"), "addr4")
ok(vpp.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="2001:db8::1/64"), "addr6")
dup = vpp.api.sw_interface_add_del_address(sw_if_index=sw, is_add=True, prefix="10.0.0.1/24")
assert dup.retval == -105, dup
a4 = vpp.api.ip_address_dump(sw_if_index=sw, is_ipv6=False)
assert [str(a.prefix) for a in a4] == ["10.0.0.1/24"], a4
ll = ok(vpp.api.sw_interface_ip6_get_link_local_address(sw_if_index=sw), "get ll")
assert str(ll.ip) == "fe80::ff:fe00:aa", ll.ip
print("addresses ok")

# Bridge domain with the loopback as BVI
bd = ok(vpp.api.bridge_domain_add_del_v2(bd_id=10, flood=True, forward=True, learn=True, is_add=True), "bd add")
assert bd.bd_id == 10
ok(vpp.api.sw_interface_set_l2_bridge(rx_sw_if_index=sw, bd_id=10, port_type=1, enable=True), "bvi")
bds = vpp.api.bridge_domain_dump(bd_id=10)
assert len(bds) == 1 and bds[0].bvi_sw_if_index == sw and bds[0].n_sw_ifs == 1, bds
fib = vpp.api.l2_fib_table_dump(bd_id=10)
assert len(fib) == 1 and fib[0].bvi_mac, fib
print("bridge domain ok")

# LB (26.06 quirks: IPv6 VIP with encap 0 = GRE4 sent... use GRE6 raw as the recording did)
ok(vpp.api.lb_conf(ip4_src_address="192.0.2.254", ip6_src_address="2001:db8::fe",
                   sticky_buckets_per_core=1024, flow_timeout=40), "lb_conf")
ok(vpp.api.lb_add_del_vip_v2(pfx="2001:db8:100::1/128", protocol=6, port=80, encap=1,
                             new_flows_table_length=1024), "vip")
for i in (1, 2):
    ok(vpp.api.lb_add_del_as(pfx="2001:db8:100::1/128", protocol=6, port=80,
                             as_address=f"2001:db8:1::{i}"), "as")
vips = vpp.api.lb_vip_dump()
assert len(vips) == 1, vips
ases = vpp.api.lb_as_dump()
assert len(ases) == 2 and all(a.flags == 1 for a in ases), ases
cli = vpp.api.cli_inband(cmd="show lb vips verbose")
assert "ip6-gre6 [1] 2001:db8:100::1/128" in cli.reply and "512 buckets" in cli.reply, cli.reply
print("lb ok")

# Unmodelled request: VPP's UNIMPLEMENTED error, never a fake success.
r = vpp.api.ip_table_add_del(is_add=True, table={"table_id": 5})
assert r.retval == -9, r
vpp.disconnect()
print("PAPI OK")
