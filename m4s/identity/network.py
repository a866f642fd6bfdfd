"""Where a request comes from, for the per-network limits of sign-in and one-time codes."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address: the socket peer, or with TRUSTED_PROXY_COUNT proxies in front, the
    address the outermost trusted proxy saw (X-Forwarded-For read from the right, so a client
    cannot spoof it by sending its own header)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [
            a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
        ]
        if len(forwarded) >= hops:
            address = _valid_address(forwarded[-hops])
            if address:
                return address
            # a proxy that wrote garbage is not trusted with the client's address: the socket
            # peer (the proxy itself) keeps the per-network limit working instead of a 500
    return _valid_address(request.META.get("REMOTE_ADDR") or "")


def _valid_address(text: str) -> str | None:
    """`text` as a normalised IPv4/IPv6 address, or None when it is not one (an IPv6 address may
    come in brackets, an IPv4 one with a port, as some proxies write them)."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
