#!/usr/bin/env python3
"""Times vpp_papi's stats reader (vpp_papi.vpp_stats.VPPStats, vpp-papi 2.4.2) reading every
interface counter of a segment served on a stats socket, for comparison with the criterion
bench `stats_read` (same segment: 10k interfaces, 2 threads, built by vppapi_stats::writer).

    python papi_stats_bench.py --spawn            # builds and runs the serve_segment example
    python papi_stats_bench.py --socket PATH      # a segment already served (or a real VPP)
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from vpp_papi.vpp_stats import VPPStats

SIMPLE = ["drops", "punt", "ip4", "ip6", "rx-no-buf", "rx-miss", "rx-error", "tx-error", "mpls"]
COMBINED = ["rx", "rx-unicast", "rx-multicast", "rx-broadcast",
            "tx", "tx-unicast", "tx-multicast", "tx-broadcast"]


def timed(fn, reps):
    times = []
    result = None
    for _ in range(reps):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return result, times


def report(what, times):
    print(f"{what}: median {statistics.median(times) * 1e3:.1f} ms, "
          f"min {min(times) * 1e3:.1f} ms over {len(times)} runs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket")
    ap.add_argument("--spawn", action="store_true",
                    help="run `cargo run --release --example serve_segment` on a temp socket")
    ap.add_argument("--interfaces", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()

    server = None
    tmp = None
    sock = args.socket
    if args.spawn:
        tmp = tempfile.TemporaryDirectory()
        sock = os.path.join(tmp.name, "stats.sock")
        repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        server = subprocess.Popen(
            ["cargo", "run", "--quiet", "--release", "-p", "vppapi-stats", "--example",
             "serve_segment", "--", sock, str(args.interfaces), str(args.threads)],
            cwd=repo, stdin=subprocess.PIPE)
        deadline = time.time() + 600
        while not os.path.exists(sock):
            if server.poll() is not None or time.time() > deadline:
                sys.exit("serve_segment did not start")
            time.sleep(0.1)
    if not sock:
        sys.exit("give --socket PATH or --spawn")
    try:
        stats = VPPStats(socketname=sock)
        _, t = timed(stats.connect, 1)
        report("connect + directory", t)
        names = stats.ls(["^/if/"])
        counters = [f"/if/{c}" for c in SIMPLE + COMBINED]
        assert all(c in names for c in counters), names
        result, times = timed(lambda: stats.dump(counters + ["/if/names"]), args.reps)
        n = len(result["/if/names"])
        last = n - 1
        rx = sum(result["/if/rx"][t][last][0] for t in range(len(result["/if/rx"])))
        print(f"read {len(counters)} vectors x {len(result['/if/rx'])} threads x {n} interfaces "
              f"+ names; rx packets of sw_if_index {last}: {rx}")
        report("vpp_papi: all interface counters", times)
        _, times = timed(lambda: stats["/if/rx"], args.reps)
        report("vpp_papi: /if/rx only", times)
        stats.disconnect()
    finally:
        if server:
            server.stdin.close()
            server.wait(timeout=30)
        if tmp:
            tmp.cleanup()


if __name__ == "__main__":
    main()
