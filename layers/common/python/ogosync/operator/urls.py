"""Which URLs a merchant may make the service call: https to a public address only, so that a URL typed into the
set-up wizard cannot reach the cloud's metadata service (169.254.169.254), the Lambda runtime on loopback, or any
private network. Plain http to loopback is allowed only on the local stack, whose simulators listen there.

A host name is resolved and every address it has must be public. What stays uncertain: the HTTP client resolves the
name again when it connects, so a name whose DNS answer changes between the check and the call (DNS rebinding)
is not caught here. Redirects are not followed by the adapters' HTTP clients (httpx's default), so an answer cannot
send a call elsewhere.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

Resolver = Callable[[str], list[str]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(ValueError):
    """The URL may not be called, in words for the person who typed it."""


def resolve_host(host: str) -> list[str]:
    """Every address the name has (an empty list when it has none)."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):  # not found, or not a name at all (a NUL, a label too long)
        return []
    return sorted({str(info[4][0]) for info in found})


def check_outbound_url(url: str, *, local_stack: bool, resolve: Resolver = resolve_host) -> None:
    """Raise UrlRefused unless `url` is https to a public host (or, on the local stack, http(s) to loopback)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        raise UrlRefused(f"{url!r} is not a web address: it must begin with https://") from None
    if parts.scheme not in ("https", "http") or not host:
        raise UrlRefused(f"{url!r} is not a web address: it must begin with https://")
    addresses = _addresses(host, resolve)
    if not addresses:
        raise UrlRefused(f"the host {host!r} is not found: check the address")
    if local_stack and all(address.is_loopback for address in addresses):
        return
    if parts.scheme != "https":
        raise UrlRefused(f"{url!r} must begin with https:// (the credentials must not travel unencrypted)")
    for address in addresses:
        if not _public(address):
            where = "is" if _literal(host) is not None else f"has the address {address}:"
            raise UrlRefused(f"{host!r} {where} a private or local address: give the service's public address")


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _addresses(host: str, resolve: Resolver) -> list[IpAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    found: list[IpAddress] = []
    for text in resolve(host):
        try:
            found.append(ipaddress.ip_address(text.split("%", 1)[0]))  # an IPv6 zone (fe80::1%eth0) dropped
        except ValueError:
            continue
    return found


def _public(address: IpAddress) -> bool:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return (mapped or address).is_global and not address.is_multicast
