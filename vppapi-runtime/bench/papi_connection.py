#!/usr/bin/env python3
"""vpp_papi's connection speed against the same simulator the `runtime` criterion bench uses,
for comparison: sequential control_ping calls/s and sw_interface_dump details/s.

Usage: papi_connection.py SOCKET [APIDIR]
  SOCKET: a running `vpp-sim --socket SOCKET` (fresh: the script creates N loopbacks)
  APIDIR: default ../shared/vpp-api/26.06 beside the repo
Needs vpp_papi 2.4.2 ($VPPAPI_PAPI_PYTHON or .venv-papi/bin/python).
"""

import os
import sys
import time

from vpp_papi import VPPApiClient

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "..", "shared", "vpp-api", "26.06")


def rate(n, secs):
    return "%10.0f /s  (%d in %.3f s)" % (n / secs, n, secs)


def main():
    sock = sys.argv[1]
    apidir = sys.argv[2] if len(sys.argv) > 2 else DEFAULT
    ifaces = int(os.environ.get("PAPI_BENCH_IFACES", "10000"))
    pings = int(os.environ.get("PAPI_BENCH_PINGS", "20000"))
    vpp = VPPApiClient(apidir=apidir, server_address=sock)
    vpp.connect("papi-bench")
    for _ in range(1000):  # warm-up
        vpp.api.control_ping()
    t = time.perf_counter()
    for _ in range(pings):
        vpp.api.control_ping()
    print("vpp_papi control_ping sequential:", rate(pings, time.perf_counter() - t))
    have = len(vpp.api.sw_interface_dump())
    for _ in range(ifaces + 1 - have):
        vpp.api.create_loopback()
    best = None
    for _ in range(3):
        t = time.perf_counter()
        n = len(vpp.api.sw_interface_dump())
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    print("vpp_papi sw_interface_dump details:", rate(n, best))
    vpp.disconnect()


if __name__ == "__main__":
    main()
