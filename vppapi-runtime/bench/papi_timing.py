#!/usr/bin/env python3
"""Time vpp_papi's pack/unpack of the messages the `codec` criterion bench measures, with the
same field values, on this machine (for comparison with the Rust numbers).

Usage: papi_timing.py [APIDIR]   (default ../shared/vpp-api/26.06 beside the repo)
Needs vpp_papi 2.4.2 (e.g. .venv-papi/bin/python).
"""

import glob
import os
import sys
import timeit

from vpp_papi import VPPApiJSONFiles

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "..", "shared", "vpp-api", "26.06")


def main():
    apidir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    files = sorted(glob.glob(os.path.join(apidir, "**", "*.api.json"), recursive=True))
    if not files:
        sys.exit("no .api.json files under %s" % apidir)
    _, msgs, _ = VPPApiJSONFiles.load_api(apifiles=files)

    path = lambda i: {  # noqa: E731
        "sw_if_index": i + 1, "table_id": 0, "rpf_id": 0, "weight": 1, "preference": 0,
        "type": 0, "flags": 0, "proto": 0,
        "nh": {"address": {"ip4": bytes([192, 168, 0, i + 1])}, "via_label": 0, "obj_id": 0,
               "classify_table_index": 0},
        "n_labels": 0,
        # papi needs all 16 entries of the fixed array
        "label_stack": [{"is_uniform": 0, "label": 0, "ttl": 0, "exp": 0}] * 16,
    }
    cases = {
        "control_ping": {"client_index": 0x80000001, "context": 7},
        "sw_interface_details": {
            "context": 7, "sw_if_index": 1, "sup_sw_if_index": 1,
            "l2_address": bytes.fromhex("deadbeef0001"), "flags": 3, "link_speed": 10000000,
            "link_mtu": 9000, "mtu": [9000, 0, 0, 0], "interface_name": "host-vpp1out",
            "interface_dev_type": "af_packet", "tag": "uplink",
        },
        "ip_route_add_del": {
            "client_index": 0x80000001, "context": 7, "is_add": True, "is_multipath": False,
            "route": {"table_id": 0, "stats_index": 0,
                      "prefix": {"address": {"af": 0, "un": {"ip4": bytes([10, 20, 0, 0])}}, "len": 16},
                      "n_paths": 4, "paths": [path(i) for i in range(4)]},
        },
        "lb_add_del_as": {
            "client_index": 0x80000001, "context": 7,
            "pfx": {"address": {"af": 0, "un": {"ip4": bytes([192, 0, 2, 1])}}, "len": 128},
            "protocol": 6, "port": 80,
            "as_address": {"af": 0, "un": {"ip4": bytes([10, 0, 0, 7])}},
            "is_del": False, "is_flush": False,
        },
    }
    print("%-24s %8s %12s %12s %14s" % ("message", "bytes", "pack ns", "unpack ns", "pack MB/s"))
    for name, args in cases.items():
        m = msgs[name]
        kw = dict(args, _vl_msg_id=0x123)
        b = m.pack(kw)
        n = 20000 if len(b) < 200 else 5000
        pack = min(timeit.repeat(lambda: m.pack(kw), number=n, repeat=3)) / n
        unpack = min(timeit.repeat(lambda: m.unpack(b, 0, ntc=True), number=n, repeat=3)) / n
        print("%-24s %8d %12.0f %12.0f %14.2f" % (name, len(b), pack * 1e9, unpack * 1e9,
                                                  len(b) / pack / 1e6))


if __name__ == "__main__":
    main()
