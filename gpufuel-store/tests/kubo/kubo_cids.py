"""Prints the CID the real Kubo v0.22 core gives each FILE, one `<cid>` line per file, in order.

    PY=$(bash scripts/kubo-env.sh | tail -n1)
    $PY gpufuel-store/tests/kubo/kubo_cids.py FILE...

The CIDs are Kubo 0.22's defaults: CIDv0, sha2-256, 256 KiB fixed chunks, balanced layout, dag-pb
leaves. The core in the wheel cannot make CIDv1 or raw leaves (see kubo_core.py), so
--cid-version 1 / --raw-leaves / another --chunker are refused (exit 2) instead of being ignored.
Uses only_hash, which stores nothing; it gave the same CID as a stored add on every file we tried.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_core  # noqa: E402


def main():
    out = kubo_core.use_stderr_for_stdout()  # stdout carries only the CIDs
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="+", metavar="FILE")
    ap.add_argument("--cid-version", type=int, default=0)
    ap.add_argument("--raw-leaves", action="store_true")
    ap.add_argument("--chunker", default="size-262144")
    args = ap.parse_args()
    if args.cid_version != 0 or args.raw_leaves or args.chunker != "size-262144":
        ap.error("the Kubo 0.22 core only produces CIDv0, dag-pb leaves, size-262144 chunks")
    for f in args.files:
        if not os.path.isfile(f):
            ap.error(f"not a regular file: {f}")
    with kubo_core.KuboNode() as node:
        for f in args.files:
            print(node.add(f, only_hash=True), file=out)
    out.flush()
    # Skip interpreter teardown with the Go runtime still loaded: nothing is left to flush.
    os._exit(0)


if __name__ == "__main__":
    main()
