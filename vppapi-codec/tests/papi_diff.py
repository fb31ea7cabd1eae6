#!/usr/bin/env python3
"""vpp_papi as an independent encoder/decoder for the Rust codec's differential test.

One process handles a whole batch. stdin: one JSON object per line,
    {"msg": NAME, "args": {field: value, ...}, "msg_id": N}
where byte strings are {"$bytes": "hex"}. stdout: one JSON object per line,
    {"hex": packed message (from _vl_msg_id on), "decoded": papi's unpack of those bytes,
     "size": bytes papi says it consumed}
or {"error": "..."} when papi refuses the vector.

Usage: papi_diff.py APIDIR   (e.g. ../shared/vpp-api/26.06)
"""

import enum
import glob
import json
import os
import sys

from vpp_papi import VPPApiJSONFiles


def load(apidir):
    files = sorted(glob.glob(os.path.join(apidir, "**", "*.api.json"), recursive=True))
    if not files:
        sys.exit("no .api.json files under %s" % apidir)
    _, messages, _ = VPPApiJSONFiles.load_api(apifiles=files)
    return messages


def from_json(v):
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return bytes.fromhex(v["$bytes"])
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


def to_json(v, names=None):
    if isinstance(v, tuple) and hasattr(v, "_fields"):
        return {k: to_json(x) for k, x in zip(names or v._fields, v)}
    if isinstance(v, enum.Enum):
        return int(v.value)
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": v.hex()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


def main():
    messages = load(sys.argv[1])
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            m = messages[req["msg"]]
            kw = from_json(req["args"])
            kw["_vl_msg_id"] = req.get("msg_id", 0)
            b = m.pack(kw)
            # ntc=True: raw values (no ip_address/MAC conversions).
            r, size = m.unpack(b, 0, ntc=True)
            out = {"hex": b.hex(), "decoded": to_json(r, m.fields), "size": size}
        except Exception as e:  # report, keep going: one bad vector must not hide the others
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
