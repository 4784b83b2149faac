"""Who a visitor is: the address the deployment's own front vouches for, never one a client names itself.

- Served directly: the connection's peer.
- Behind nginx on this machine (deploy/nginx.conf) or on a `--share` link: the front connects from loopback
  and appends the address it saw to `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`; the share
  server is frp, whose HTTP proxy copies the incoming header and calls Go's `SetXForwarded`, which appends).
  uvicorn, as Gradio starts it, trusts `X-Forwarded-For` from 127.0.0.1 and ::1 only and takes its last
  entry that is not one of those, which is the one the front appended; so the peer it reports is the
  visitor, and entries a client wrote itself, always to the left, are never read.
- On a Hugging Face Space (`SYSTEM=spaces`): the peer is the Space's proxy on a private address, which
  uvicorn does not trust, and the visitor is the last entry of `X-Forwarded-For` outside the private
  networks the Space's own hops live in: the one HF's front appended. HF's `X-IP-Token` is not used: the
  browser page carries it (a script sends whatever it likes), it is signed by a key the app cannot check
  offline, and only ZeroGPU Spaces get it.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache

# Where a Space's own proxies live; a visitor never arrives from these through the internet.
INTERNAL = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
MAX_KEY = 64  # characters of an address kept as a key: a header cannot make keys of any length


def on_space() -> bool:
    """True on a Hugging Face Space, as HF's environment says (the variable Gradio itself reads)."""
    return os.environ.get("SYSTEM") == "spaces"


@lru_cache(maxsize=4096)
def _internal(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in net for net in INTERNAL)


def appended_by_front(forwarded_for: str) -> str:
    """The last `X-Forwarded-For` entry outside INTERNAL: the address the outermost front saw; "" if none."""
    for entry in reversed(forwarded_for.split(",")):
        host = entry.strip()
        if host and not _internal(host):
            return host[:MAX_KEY]
    return ""


def visitor(request, space: bool | None = None) -> str:
    """The key every per-visitor bound and turn counts: see the module's docstring for each deployment."""
    peer = (getattr(getattr(request, "client", None), "host", None) or "?")[:MAX_KEY]
    if not (on_space() if space is None else space):
        return peer
    headers = getattr(request, "headers", None) or {}
    getlist = getattr(headers, "getlist", None)  # a header sent twice counts whole, joined in order
    forwarded = ", ".join(getlist("x-forwarded-for")) if getlist else headers.get("x-forwarded-for", "")
    return appended_by_front(forwarded) or peer
