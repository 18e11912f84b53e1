"""Which URLs a merchant may make the service call (ogosync.operator.urls), with the system's own resolver for
`localhost` and fixed answers for other names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogosync.operator.urls import UrlRefused, check_outbound_url, resolve_host


def test_a_name_is_resolved_by_the_system_and_loopback_is_refused_outside_the_local_stack() -> None:
    assert "127.0.0.1" in resolve_host("localhost") or "::1" in resolve_host("localhost")
    assert resolve_host("bad\x00name") == [] and resolve_host("a" * 300) == []
    with pytest.raises(UrlRefused, match="private or local address"):
        check_outbound_url("https://localhost:8443/api", local_stack=False)
    check_outbound_url("http://localhost:8443/api", local_stack=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/api/token",  # the cloud's metadata service
        "https://0.0.0.0/",
        "https://100.64.0.1/",  # carrier-grade NAT: not public
        "https://[fe80::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://2130706433/",  # 127.0.0.1 as one number: the resolver decides what it is
    ],
)
def test_private_link_local_and_odd_forms_of_them_are_refused(url: str) -> None:
    resolve = {"2130706433": ["127.0.0.1"]}.get

    with pytest.raises(UrlRefused):
        check_outbound_url(url, local_stack=False, resolve=lambda host: resolve(host, []))


@pytest.mark.parametrize("url", ["ftp://shop.example/", "https://", "file:///etc/passwd", "javascript:alert(1)"])
def test_anything_but_a_web_address_is_refused(url: str) -> None:
    with pytest.raises(UrlRefused, match="not a web address"):
        check_outbound_url(url, local_stack=True, resolve=lambda host: ["93.184.216.34"])


def test_a_public_https_address_passes_and_the_local_stack_still_refuses_private_ones() -> None:
    check_outbound_url("https://shop.example/api", local_stack=False, resolve=lambda host: ["93.184.216.34"])
    with pytest.raises(UrlRefused, match="private or local"):
        check_outbound_url("https://192.168.1.1/api", local_stack=True)


@given(st.one_of(st.text(), st.builds("https://{}/api".format, st.text()), st.builds("http://[{}]".format, st.text())))
def test_any_text_passes_or_is_refused_in_words(url: str) -> None:
    refusal: UrlRefused | None = None
    try:
        check_outbound_url(url, local_stack=False, resolve=lambda host: ["93.184.216.34"])
    except UrlRefused as exc:
        refusal = exc
    assert refusal is None or str(refusal).strip()  # in words; any other exception fails the test
