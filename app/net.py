"""The one gate every outgoing connection passes through, so privacy mode is enforced once.

Code that builds a network client (Ollama, Claude, sync) first asks ``NetworkGate.check(url)``.
With privacy mode on ("nothing leaves this device"), only loopback hosts pass; anything else
raises ``PrivacyBlocked`` *before* a socket is opened. Host names other than ``localhost`` are
refused without resolving them, because a DNS lookup itself would leave the device.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.errors import RecapError

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class PrivacyBlocked(RecapError):
    """A connection to a non-loopback host was refused because privacy mode is on."""

    fix = "Turn privacy mode off in settings, or point it at a service on this machine."

    def __init__(self, host: str, purpose: str) -> None:
        super().__init__(
            f"Privacy mode is on: {purpose or 'this feature'} would connect to {host}, "
            "which is not on this device."
        )
        self.host = host
        self.purpose = purpose


def host_of(url: str) -> str:
    """The host part of a URL or ``host:port`` string ("" when there is none)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text  # Ollama accepts "127.0.0.1:11434" without a scheme
    try:
        return (urlsplit(text).hostname or "").lower()
    except ValueError:
        return ""


def is_loopback_host(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class NetworkGate:
    """Asks the live privacy setting each time, so flipping the switch applies at once."""

    privacy_mode: Callable[[], bool]

    def check(self, url: str, purpose: str = "") -> str:
        """Return the URL unchanged if it may be used; raise ``PrivacyBlocked`` otherwise."""
        host = host_of(url)
        if self.privacy_mode() and not is_loopback_host(host):
            log.info("privacy mode refused a connection to %s (%s)", host or url, purpose)
            raise PrivacyBlocked(host or url, purpose)
        return url

    def allows(self, url: str) -> bool:
        return not self.privacy_mode() or is_loopback_host(host_of(url))

    def guard(self, client: httpx.Client) -> httpx.Client:
        """Make an httpx client ask the gate before every request, redirects included.

        For code that builds its own clients (model downloads): wrap the factory, e.g.
        ``client_factory=lambda: gate.guard(default_client_factory())``.
        """

        def check_request(request: httpx.Request) -> None:
            self.check(str(request.url), "a download")

        client.event_hooks["request"] = [*client.event_hooks.get("request", []), check_request]
        return client
