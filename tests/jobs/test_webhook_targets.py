"""The SSRF guard's pure parts: refusing internal addresses, and pinning the connection to the vetted one."""

from __future__ import annotations

import pytest

from jobs.webhooks.targets import TargetRefused, pinned_request, webhook_target_check


@pytest.mark.parametrize("url", ["http://127.0.0.2/", "http://10.0.0.1/", "http://172.16.5.4/", "http://[fe80::1]/",
                                 "http://100.64.0.1/", "http://224.0.0.1/", "http://[::]/", "http://user:pw@8.8.8.8/",
                                 "file:///etc/passwd", "http:///nohost"])
def test_internal_or_odd_targets_are_refused(url, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(TargetRefused):
        webhook_target_check(url)


def test_a_public_address_is_vetted_and_returned(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert webhook_target_check("https://8.8.8.8:8443/hook") == "8.8.8.8"


def test_an_allowed_network_lets_one_address_through_but_not_its_neighbours(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    assert webhook_target_check("http://127.0.0.1:9/") == "127.0.0.1"
    with pytest.raises(TargetRefused):
        webhook_target_check("http://127.0.0.2:9/")


def test_pinned_request_connects_to_the_address_and_keeps_the_name():
    url, headers, extensions = pinned_request("https://hooks.example.com:8443/a/b?x=1", "93.184.216.34")
    assert url == "https://93.184.216.34:8443/a/b?x=1"
    assert headers == {"host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}


def test_pinned_request_for_plain_http_and_ipv6():
    url, headers, extensions = pinned_request("http://example.org/hook", "2606:2800:220:1::1")
    assert url == "http://[2606:2800:220:1::1]/hook"
    assert headers == {"host": "example.org"} and extensions == {}
