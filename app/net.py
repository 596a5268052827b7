"""The one gate every outgoing connection passes through, so privacy mode is enforced once.

With privacy mode on ("nothing leaves this device"), only loopback hosts pass; anything else
raises ``PrivacyBlocked`` *before* a socket is opened. Host names other than ``localhost`` are
refused without resolving them, because a DNS lookup itself would leave the device.

Checking the configured host once is not enough: a server on this machine can answer with a
redirect to somewhere else, and an ``HTTP_PROXY`` in the environment sends even a request for
127.0.0.1 to another machine. So every HTTP client the app builds takes its options from
``NetworkGate.client_options``: the gate's hook runs before every request the client sends
(each hop of a redirect included), redirects are not followed unless the caller needs them
(model downloads), the environment's proxy variables are ignored, and the only proxy is the
one the user set in settings, used for non-loopback hosts only and checked like any host.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.errors import RecapError

log = logging.getLogger(__name__)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
# Hosts a client reaches directly even when the user set a proxy (the proxy is for the
# internet; traffic to this machine never goes through another one). The keys are httpx
# mount patterns; the hook below must agree with them on which requests use the proxy.
_DIRECT_MOUNTS = {"127.0.0.1": "all://127.0.0.1", "localhost": "all://localhost",
                  "::1": "all://[::1]"}


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


class _Request(Protocol):
    """What the hook reads of an httpx (or httpx2) request."""

    @property
    def url(self) -> Any: ...


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
    """Asks the live settings each time, so flipping the switch applies at once."""

    privacy_mode: Callable[[], bool]
    proxy: Callable[[], str] = field(default=lambda: "")  # the user's proxy setting

    def check(self, url: str, purpose: str = "") -> str:
        """Return the URL unchanged if it may be used; raise ``PrivacyBlocked`` otherwise."""
        host = host_of(url)
        if self.privacy_mode() and not is_loopback_host(host):
            log.info("privacy mode refused a connection to %s (%s)", host or url, purpose)
            raise PrivacyBlocked(host or url, purpose)
        return url

    def allows(self, url: str) -> bool:
        return not self.privacy_mode() or is_loopback_host(host_of(url))

    def hook(self, purpose: str, proxy: str = "",
             refuse_in_privacy: bool = False) -> Callable[[_Request], None]:
        """The check an httpx client runs before each request it sends, redirects included.

        ``proxy`` is the proxy the client was built with: a request it carries is checked
        against it too. ``refuse_in_privacy`` refuses every request in privacy mode, loopback
        or not (sync: privacy mode turns it off altogether).
        """

        def check_request(request: _Request) -> None:
            url = str(request.url)
            if refuse_in_privacy and self.privacy_mode():
                log.info("privacy mode refused a request (%s)", purpose)
                raise PrivacyBlocked(host_of(url) or url, purpose)
            self.check(url, purpose)
            if proxy and str(request.url.host).lower() not in _DIRECT_MOUNTS:
                self.check(proxy, f"{purpose} (through the proxy)")

        return check_request

    def client_options(self, purpose: str, *, follow_redirects: bool = False,
                       refuse_in_privacy: bool = False,
                       library: ModuleType | None = None) -> dict[str, Any]:
        """Keyword arguments for an ``httpx.Client`` (or ``httpx2.Client``, for Anthropic's
        SDK: pass ``library=httpx2``) that passes this gate on every request.

        Redirects are refused unless ``follow_redirects`` (each hop is checked then); proxy
        variables in the environment are ignored (``trust_env`` off); the user's proxy from
        settings, if any, carries requests to non-loopback hosts only.
        """
        if library is None:
            import httpx

            library = httpx
        proxy = self.proxy().strip()
        options: dict[str, Any] = {
            "trust_env": False,
            "follow_redirects": follow_redirects,
            "event_hooks": {"request": [self.hook(purpose, proxy, refuse_in_privacy)]},
        }
        if proxy:
            options["proxy"] = proxy
            options["mounts"] = {pattern: library.HTTPTransport()
                                 for pattern in _DIRECT_MOUNTS.values()}
        return options

    def guard(self, client: Any, purpose: str = "a download") -> Any:
        """Add the gate's hook to a client built elsewhere (prefer ``client_options``).

        A client that reads proxies from the environment is refused: the hook sees where a
        request is going, not the proxy that would carry it.
        """
        if client.trust_env:
            raise ValueError("build the client with NetworkGate.client_options(): it must not "
                             "take proxies from the environment")
        client.event_hooks["request"] = [*client.event_hooks.get("request", []),
                                         self.hook(purpose)]
        return client
