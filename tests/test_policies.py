"""Privacy policies outside the package: linked ones make PRM findings warnings that say where; a local
file or a fetched page is read as a declaration; fetching treats the URL as hostile (a local server on
127.0.0.1 stands in for the web, reachable only with --allow-network)."""

from __future__ import annotations

import contextlib
import http.server
import subprocess
import threading
import time
from typing import ClassVar

import pytest

from scanner import engine, privacy_policy
from scanner.model import AnomalyKind, Options, PolicySources, Severity

from conftest import APKS, ENTRY_POINT, package, text

POLICY_HTML = "<html><body><h1>隐私政策</h1><p>相机权限：用于扫码。麦克风权限：用于语音输入。</p></body></html>"
CAMERA, AUDIO = "android.permission.CAMERA", "android.permission.RECORD_AUDIO"


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/trickle":  # a byte every 0.4 s: each read waits less than any socket timeout
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(40):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.4)
            return
        status, headers, body = self.routes.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up (the size and time caps)
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.routes = {
        "/privacy.html": (200, {"Content-Type": "text/html; charset=utf-8"}, POLICY_HTML.encode()),
        "/moved": (302, {"Location": "/privacy.html"}, b""),
        "/to-private": (302, {"Location": "http://10.1.2.3/privacy.html"}, b""),
        "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
        "/loop": (302, {"Location": "/loop"}, b""),
        "/huge": (200, {"Content-Type": "text/html"}, b"<p>" + b"x" * (3 * 1024 * 1024) + b"</p>"),
        "/image": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n"),
        "/slow": (200, {"Content-Type": "text/plain"}, "隐私政策".encode()),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()


LOCAL = privacy_policy.FetchLimits(privacy_policy.networks(["127.0.0.1"]))


class TestFetch:
    def test_a_local_server_needs_the_users_allowance(self, server):
        with pytest.raises(privacy_policy.PolicyError, match=r"127\.0\.0\.1, a private, loopback or reserved address"):
            privacy_policy.fetch_text(f"{server}/privacy.html", privacy_policy.FetchLimits())
        page = privacy_policy.fetch_text(f"{server}/privacy.html", LOCAL)
        assert "相机权限：用于扫码" in page.value and page.location.kind == "policy"

    def test_redirects_are_followed_and_checked_each_time(self, server):
        page = privacy_policy.fetch_text(f"{server}/moved", LOCAL)
        assert page.location.pointer == f"redirected to {server}/privacy.html"
        with pytest.raises(privacy_policy.PolicyError, match=r"10\.1\.2\.3"):
            privacy_policy.fetch_text(f"{server}/to-private", LOCAL)
        with pytest.raises(privacy_policy.PolicyError, match="only http and https"):
            privacy_policy.fetch_text(f"{server}/to-file", LOCAL)
        with pytest.raises(privacy_policy.PolicyError, match="more than 5 redirects"):
            privacy_policy.fetch_text(f"{server}/loop", LOCAL)

    def test_size_time_and_type_are_bounded(self, server):
        with pytest.raises(privacy_policy.PolicyError, match="larger than"):
            privacy_policy.fetch_text(f"{server}/huge", LOCAL)
        with pytest.raises(privacy_policy.PolicyError, match="not a text page"):
            privacy_policy.fetch_text(f"{server}/image", LOCAL)
        quick = privacy_policy.FetchLimits(LOCAL.allowed, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(privacy_policy.PolicyError):
            privacy_policy.fetch_text(f"{server}/slow", quick)
        assert time.monotonic() - started < 2.5

    def test_one_deadline_for_the_whole_fetch_of_a_trickling_server(self, server):
        rules = privacy_policy.FetchLimits(LOCAL.allowed, timeout=1.5)
        started = time.monotonic()
        with pytest.raises(privacy_policy.PolicyError, match=r"took longer than 1\.5 s"):
            privacy_policy.fetch_text(f"{server}/trickle", rules)
        assert time.monotonic() - started < 3  # 40 bytes at 0.4 s each would take 16 s

    @pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "::1", "fd00::1", "0.0.0.0", "224.0.0.1",
                                         "100.64.0.1"])
    def test_names_that_resolve_inside_are_refused_after_resolution(self, address):
        with pytest.raises(privacy_policy.PolicyError, match="resolves to"):
            privacy_policy.fetch_text("https://policy.example/privacy", privacy_policy.FetchLimits(),
                              resolver=lambda host, port: [address])

    def test_one_inside_address_among_public_ones_is_enough_to_refuse(self):
        with pytest.raises(privacy_policy.PolicyError, match=r"127\.0\.0\.1"):
            privacy_policy.fetch_text("http://rebind.example/", privacy_policy.FetchLimits(),
                              resolver=lambda host, port: ["93.184.216.34", "127.0.0.1"])

    @pytest.mark.parametrize("url", ["ftp://example.com/p", "javascript:alert(1)", "http:///nohost", "http://h:99999/"])
    def test_malformed_urls(self, url):
        with pytest.raises(privacy_policy.PolicyError):
            privacy_policy.fetch_text(url, privacy_policy.FetchLimits(), resolver=lambda host, port: ["93.184.216.34"])


def _linked(url: str):
    return package(text("请阅读《隐私政策》"), text(url, pointer="@string/privacy_url [default]"),
                   permissions=(CAMERA, AUDIO))


class TestFindings:
    def test_linked_policy_makes_prm001_a_warning_that_names_it(self):
        result = engine.scan_path(str(APKS / "policy_online.apk"), Options())
        prm = [f for f in result.findings if f.rule_id == "PRM001"]
        assert len(prm) == 2 and {f.severity for f in prm} == {Severity.WARNING}
        assert all("privacy policy at https://example.com/app/privacy.html (not checked" in f.message for f in prm)
        assert prm[0].location.pointer == "@string/privacy_url [default]"

    def test_a_local_policy_file_declares(self, tmp_path):
        path = tmp_path / "privacy.html"
        path.write_text(POLICY_HTML, encoding="utf-8")
        options = Options(policies=PolicySources((privacy_policy.local_text(str(path)),)))
        result = engine.scan_path(str(APKS / "policy_online.apk"), options)
        assert not [f for f in result.findings if f.rule_id.startswith("PRM")]
        assert result.facts.policies_read == (str(path),)

    def test_a_policy_that_misses_a_permission_is_an_error_again(self, tmp_path):
        path = tmp_path / "privacy.md"
        path.write_text("# 隐私政策\n\n相机权限：用于扫码。\n", encoding="utf-8")
        options = Options(policies=PolicySources((privacy_policy.local_text(str(path)),)))
        (finding,) = [f for f in engine.scan_path(str(APKS / "policy_online.apk"), options).findings
                      if f.rule_id == "PRM001"]
        assert finding.severity is Severity.ERROR and AUDIO in finding.message
        assert f"nor does the privacy policy read from {path}" in finding.message

    def test_fetched_policy_declares(self, server):
        options = Options(policies=PolicySources(fetch=True, allowed_networks=("127.0.0.1",)))
        result = engine.evaluate(_linked(f"{server}/privacy.html"), options)
        assert result.facts.policies_read == (f"{server}/privacy.html",)
        assert not [f for f in result.findings if f.rule_id.startswith("PRM")]

    def test_refused_fetch_is_a_note_and_the_warning_stays(self, server):
        result = engine.evaluate(_linked(f"{server}/privacy.html"), Options(policies=PolicySources(fetch=True)))
        notes = [f for f in result.findings if f.rule_id == "PKG004"]
        assert notes and "privacy policy not fetched" in notes[0].message
        assert {f.severity for f in result.findings if f.rule_id == "PRM001"} == {Severity.WARNING}

    def test_fetch_failure_anomaly_kind(self, server):
        pkg = engine.with_policies(_linked(f"{server}/privacy/missing"), PolicySources(fetch=True,
                                                                               allowed_networks=("127.0.0.1",)))
        assert [(a.kind, "HTTP 404" in a.detail) for a in pkg.anomalies] == [(AnomalyKind.NOTE, True)]

    def test_filter_lists_are_not_policies(self):
        result = engine.evaluate(package(text("https://easylist.example/easyprivacy.txt"), text("隐私"),
                                         permissions=(CAMERA,)), Options())
        assert result.facts.policy_links == ()


class TestCommandLine:
    def test_policy_file_flag(self, tmp_path):
        path = tmp_path / "privacy.html"
        path.write_text(POLICY_HTML, encoding="utf-8")
        done = subprocess.run([str(ENTRY_POINT), "scan", "--privacy-policy", str(path), "--fail-on", "warning",
                               str(APKS / "policy_online.apk")], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    def test_bad_network_is_a_usage_error(self):
        done = subprocess.run([str(ENTRY_POINT), "scan", "--allow-network", "not-a-net",
                               str(APKS / "policy_online.apk")], capture_output=True, text=True, check=False)
        assert done.returncode == 2 and "invalid network 'not-a-net'" in done.stderr

    def test_binary_policy_file_is_a_usage_error(self, tmp_path):
        path = tmp_path / "privacy.bin"
        path.write_bytes(bytes(range(256)) * 4)
        done = subprocess.run([str(ENTRY_POINT), "scan", "--privacy-policy", str(path),
                               str(APKS / "policy_online.apk")], capture_output=True, text=True, check=False)
        assert done.returncode == 2 and "privacy policy is not text" in done.stderr
