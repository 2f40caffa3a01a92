"""Has the real Kubo core read back a DAG built elsewhere: plants every block of BLOCK_DIR (files
named by their CID) in a fresh node, cats ROOT, and compares with EXPECTED.

    $PY kubo_readback.py ROOT BLOCK_DIR EXPECTED     # prints "OK <bytes>", exit 1 on a mismatch

The node checks every block against its CID when reading (HashOnRead) and walks the DAG with its
own UnixFS reader, so this cross-checks DAGs the core cannot build itself (CIDv1, raw leaves).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_core  # noqa: E402


def main():
    out = kubo_core.use_stderr_for_stdout()
    root, block_dir, expected = sys.argv[1:4]
    with kubo_core.KuboNode() as node:
        for name in os.listdir(block_dir):
            with open(os.path.join(block_dir, name), "rb") as f:
                node.put_block(name, f.read())
        got = node.cat(root, timeout=20.0)
    with open(expected, "rb") as f:
        want = f.read()
    print(f"OK {len(got)}" if got == want else f"MISMATCH {len(got)} != {len(want)}", file=out)
    out.flush()
    os._exit(0 if got == want else 1)


if __name__ == "__main__":
    main()
