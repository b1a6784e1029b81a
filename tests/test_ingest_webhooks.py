"""Webhooks: refused for inside addresses at upload and at delivery, signed, one deadline, Celery retries.

Receivers are real HTTP servers on 127.0.0.1, reached with ``WEBHOOK_ALLOW_PRIVATE``
turned on for the test (the test settings keep it off, so the refusals are the default).
DNS answers are forged by monkeypatching ``socket.getaddrinfo``.
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest import webhooks
from ingest.webhooks import WebhookRefused, address_category, post_json, webhook_targets

SECRET = "test-webhook-secret"
PUBLIC = "93.184.216.34"  # a global unicast address; never connected to by these tests


class Receiver:
    """An HTTP server on 127.0.0.1 answering POSTs with ``respond(handler, n)`` (default: 200)."""

    def __init__(self, statuses=(), stall_seconds=0.0, respond=None):
        self.statuses = list(statuses)
        self.stall_seconds = stall_seconds
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body, time.monotonic()))
                if respond is not None:
                    respond(self, len(receiver.received))
                    return
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.stall_seconds and len(receiver.received) == 1:
                    time.sleep(receiver.stall_seconds)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_webhooks(settings):
    settings.WEBHOOK_SECRET = SECRET
    settings.WEBHOOK_BACKOFF_SECONDS = 0.05
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_MAX_ATTEMPTS = 4


@pytest.fixture
def local_receivers(settings, fast_webhooks):
    """Receivers on 127.0.0.1 may be reached (DJANGO_WEBHOOK_ALLOW_PRIVATE=true)."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def fake_dns(monkeypatch):
    """Forge ``socket.getaddrinfo`` answers: ``fake_dns(name, *answers)``; each call takes the next answer."""
    real = socket.getaddrinfo
    answers: dict[str, list[list[str]]] = {}
    calls: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        calls.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 4:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
            else:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def forge(name: str, *per_call: list[str]) -> list[str]:
        answers[name] = list(per_call)
        return calls

    return forge


def upload(client, path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def deliveries_of(client, image_id):
    return client.get(f"/api/v1/images/{image_id}").json()["webhook_deliveries"]


# -- refused at upload ---------------------------------------------------------------------

INSIDE_URLS = [
    "http://127.0.0.1:6379/",
    "http://localhost:5432/",
    "http://localhost./",
    "http://LOCALHOST/",
    "http://api.localhost/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8000/",
    "http://0.0.0.0:80/",
    "http://0/",
    "http://[::]/",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared (carrier-grade NAT)
    "http://100.100.100.200/latest/meta-data/",  # Alibaba Cloud metadata
    "http://168.63.129.16/",  # Azure WireServer (a public address)
    "http://[fd00:ec2::254]/latest/meta-data/",  # AWS IMDS over IPv6
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://198.18.0.1/",
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://127.1/",  # short form
    "http://017700000001/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:a9fe:a9fe]/",  # mapped 169.254.169.254
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/",  # 6to4 of 169.254.169.254
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://evil@127.0.0.1/",  # userinfo trick
    "http://evil.example@169.254.169.254/",
    "http://user:secret@example.com/",  # credentials in the URL
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
    "http:///hook",
    "not a url",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", INSIDE_URLS)
def test_webhook_url_inside_is_refused_at_upload(client, write_csv, url):
    response = upload(client, write_csv(["depth,col1", "1,2"]), webhook_url=url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter" and "webhook_url" in error["fields"]


@pytest.mark.django_db
def test_webhook_url_naming_a_private_address_in_dns_is_refused_at_upload(client, write_csv, fake_dns):
    fake_dns("hooks.internal.example", ["10.0.0.5"])
    fake_dns("mixed.example", [PUBLIC, "127.0.0.1"])  # one inside address is enough
    fake_dns("nowhere.example", [])
    for url in ("http://hooks.internal.example/", "http://mixed.example/", "http://nowhere.example/"):
        response = upload(client, write_csv(["depth,col1", "1,2"]), webhook_url=url)
        assert response.status_code == 400, url
        assert "webhook_url" in response.json()["error"]["fields"]
    message = upload(client, write_csv(["depth,col1", "1,2"]), webhook_url="http://hooks.internal.example/")
    assert message.json()["error"]["fields"]["webhook_url"] == ["webhook URL refused: private address"]


@pytest.mark.django_db
def test_webhook_metadata_is_refused_even_where_private_addresses_are_allowed(client, write_csv, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    for url in ("http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/"):
        response = upload(client, write_csv(["depth,col1", "1,2"]), webhook_url=url)
        assert response.status_code == 400, url
        assert response.json()["error"]["fields"]["webhook_url"] == [
            "webhook URL refused: cloud metadata address"
        ]


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("fd12::1", "private"),
        ("100.64.0.1", "shared"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "metadata"),
        ("::ffff:169.254.169.254", "metadata"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("239.1.2.3", "multicast"),
        ("ff0e::1", "multicast"),
        ("240.0.0.1", "private"),
        ("2001:db8::1", "private"),
        ("::ffff:10.1.1.1", "private"),
        ("2002:0a00:0001::1", "private"),
        ("64:ff9b::0a00:0001", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("64:ff9b::808:808", None),  # NAT64 of a public address
    ],
)
def test_webhook_address_category(address, category):
    assert address_category(ipaddress.ip_address(address)) == category


def test_webhook_targets_keep_the_host_and_resolve_once(fake_dns):
    calls = fake_dns("hooks.example", [PUBLIC])
    target = webhook_targets("https://Hooks.Example.:8443/a/b?c=1#frag", allow_private=False)
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example",
        8443,
        "/a/b?c=1",
    )
    assert target.addresses == ((socket.AF_INET, (PUBLIC, 8443)),)
    assert calls == ["hooks.example"]
    with pytest.raises(WebhookRefused, match="control characters"):
        webhook_targets("http://hooks.example/a\r\nX-Injected: 1", allow_private=False)


# -- refused at delivery -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_webhook_dns_rebinding_to_loopback_is_refused_at_delivery(client, write_csv, fast_webhooks, fake_dns):
    receiver = Receiver()
    calls = fake_dns("rebind.example", [PUBLIC], ["127.0.0.1"])  # public at upload, loopback later
    try:
        url = f"http://rebind.example:{receiver.port}/hook"
        response = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=url)
    finally:
        receiver.close()
    assert response.status_code == 202, response.content
    assert calls == ["rebind.example", "rebind.example"]
    assert receiver.received == []  # nothing reached the inside address
    deliveries = deliveries_of(client, response.json()["id"])
    assert [(d["attempt"], d["status_code"], d["delivered"], d["error"]) for d in deliveries] == [
        (1, None, False, "refused: loopback address")  # a refusal is not retried
    ]


def test_webhook_connection_to_an_unchecked_address_is_refused_by_its_peer(settings):
    """Defence in depth: the socket's peer is checked again after connecting."""
    receiver = Receiver()
    try:
        target = webhooks.Target(
            "http", "x.example", receiver.port, "/", ((socket.AF_INET, ("127.0.0.1", receiver.port)),)
        )
        with pytest.raises(WebhookRefused, match="loopback"):
            webhooks._connect(target, time.monotonic() + 2, allow_private=False)
        webhooks._connect(target, time.monotonic() + 2, allow_private=True).close()
    finally:
        receiver.close()


# -- delivery --------------------------------------------------------------------------------

delivery_db = pytest.mark.django_db(transaction=True)


@delivery_db
def test_webhook_signed_body_on_success(client, sample_csv, local_receivers):
    receiver = Receiver()
    try:
        image = upload(client, sample_csv, webhook_url=receiver.url).json()
    finally:
        receiver.close()
    assert len(receiver.received) == 1
    headers, body, _ = receiver.received[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Signature-256"], expected)
    payload = json.loads(body)
    assert payload["id"] == image["id"]
    assert payload["status"] == "succeeded" and payload["event"] == "image.ingested"
    assert payload["depth_min"] == 9000.1 and payload["depth_unit"] == "m" and payload["rows"] == 5460
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries_of(client, image["id"])] == [
        (1, 200, True)
    ]


@delivery_db
def test_webhook_connects_to_the_resolved_address_with_the_original_host(
    client, write_csv, local_receivers, fake_dns
):
    receiver = Receiver()
    fake_dns("hooks.example", ["127.0.0.1"])
    try:
        url = f"http://hooks.example:{receiver.port}/hook?token=abc"
        response = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=url)
    finally:
        receiver.close()
    assert response.status_code == 202
    headers, _, _ = receiver.received[0]
    assert headers["Host"] == f"hooks.example:{receiver.port}"
    assert deliveries_of(client, response.json()["id"])[0]["delivered"] is True


@delivery_db
def test_webhook_retries_through_celery_with_backoff_and_never_sleeps(
    client, write_csv, local_receivers, settings, monkeypatch
):
    from ingest.tasks import deliver_webhook

    settings.WEBHOOK_BACKOFF_SECONDS = 3600.0  # a sleeping implementation would hang here
    countdowns = []
    retry = deliver_webhook.retry

    def spy(*args, **kwargs):
        countdowns.append(kwargs["countdown"])
        return retry(*args, **kwargs)

    def no_sleep(seconds):
        raise AssertionError(f"time.sleep({seconds}) during a request")

    monkeypatch.setattr(deliver_webhook, "retry", spy)
    receiver = Receiver(statuses=[500, 503])
    monkeypatch.setattr(time, "sleep", no_sleep)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,x"]), webhook_url=receiver.url).json()
    finally:
        monkeypatch.undo()
        receiver.close()
    assert countdowns == [3600.0, 7200.0]  # WEBHOOK_BACKOFF_SECONDS * 2 ** (attempt - 1)
    assert len(receiver.received) == 3
    assert [h["X-Depthtiles-Attempt"] for h, _, _ in receiver.received] == ["1", "2", "3"]
    payload = json.loads(receiver.received[-1][1])
    assert payload["status"] == "failed" and payload["error"]["line"] == 3
    assert [
        (d["attempt"], d["status_code"], d["delivered"], d["error"])
        for d in deliveries_of(client, image["image"]["id"])
    ] == [(1, 500, False, "HTTP 500"), (2, 503, False, "HTTP 503"), (3, 200, True, "")]


@delivery_db
def test_webhook_timeout_is_retried(client, write_csv, local_receivers):
    receiver = Receiver(stall_seconds=1.0)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    deliveries = deliveries_of(client, image["id"])
    assert (deliveries[0]["status_code"], deliveries[0]["error"]) == (None, "timeout")
    assert deliveries[-1]["delivered"] is True


@delivery_db
def test_webhook_deadline_covers_the_whole_answer_not_each_read(client, write_csv, local_receivers, settings):
    """A receiver trickling its answer a byte every 0.25 s (~10 s in all) is cut at the 1 s deadline."""
    settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    settings.WEBHOOK_MAX_ATTEMPTS = 1

    def trickle(handler, n):
        try:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(0.25)
        except OSError:
            pass  # the sender hung up at its deadline

    receiver = Receiver(respond=trickle)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    [delivery] = deliveries_of(client, image["id"])
    assert (delivery["status_code"], delivery["delivered"], delivery["error"]) == (None, False, "timeout")
    assert 1.0 <= delivery["duration"] < 3.0


@delivery_db
def test_webhook_redirect_is_a_failure_and_is_not_followed(client, write_csv, local_receivers, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    target = Receiver()

    def redirect(handler, n):
        handler.send_response(307)
        handler.send_header("Location", target.url)
        handler.end_headers()

    receiver = Receiver(respond=redirect)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
        target.close()
    assert target.received == []
    assert [(d["status_code"], d["delivered"], d["error"]) for d in deliveries_of(client, image["id"])] == [
        (307, False, "HTTP 307 (redirects are not followed)")
    ] * 2


@delivery_db
def test_webhook_reads_a_few_kilobytes_of_a_large_answer(client, write_csv, local_receivers):
    sent = []

    def large(handler, n):
        handler.send_response(200)
        handler.send_header("Content-Length", str(50 << 20))
        handler.end_headers()
        try:
            for _ in range(50 << 4):  # 50 MB in 64 KB writes; blocks once the sender stops reading
                handler.wfile.write(b"x" * 65536)
                sent.append(1)
        except OSError:
            pass

    receiver = Receiver(respond=large)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    [delivery] = deliveries_of(client, image["id"])
    assert (delivery["status_code"], delivery["delivered"]) == (200, True)
    assert len(sent) < 50 << 4  # the answer was not read to its end


@delivery_db
def test_webhook_gives_up_after_max_attempts(client, write_csv, local_receivers, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver = Receiver(statuses=[500, 500, 500])
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    assert [d["delivered"] for d in deliveries_of(client, image["id"])] == [False, False]


def test_webhook_errors_are_generic(settings):
    """No errno, host or port in the recorded error: the delivery log is no port scanner."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    common = {"secret": b"k", "timeout": 1.0, "headers": {}}
    answer = post_json(f"http://127.0.0.1:{port}/", b"{}", allow_private=True, **common)
    assert (answer.status_code, answer.error) == (None, "connection failed")
    answer = post_json(f"http://127.0.0.1:{port}/", b"{}", allow_private=False, **common)
    assert (answer.status_code, answer.error, answer.refused) == (None, "refused: loopback address", True)


def test_webhook_dns_failure_at_delivery_is_retried(fake_dns):
    fake_dns("gone.example", [])
    answer = post_json(
        "http://gone.example/", b"{}", secret=b"k", timeout=1.0, headers={}, allow_private=False
    )
    assert (answer.status_code, answer.error, answer.refused) == (None, "DNS lookup failed", False)


@pytest.mark.django_db
def test_webhook_of_a_deleted_image_sends_nothing():
    from ingest.models import WebhookDelivery
    from ingest.tasks import deliver_webhook

    assert deliver_webhook.apply((987654, 1)).successful()
    assert not WebhookDelivery.objects.exists()


def self_signed(tmp_path, host: str):
    """A certificate for ``host`` (its own CA) and its key, as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_webhook_https_sends_the_url_host_as_sni_and_verifies_its_certificate(
    tmp_path, fake_dns, monkeypatch
):
    import ssl

    cert, key = self_signed(tmp_path, "hooks.example")
    server_names = []
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server_context.sni_callback = lambda sock, name, context: server_names.append(name)
    receiver = Receiver()
    receiver.server.socket = server_context.wrap_socket(receiver.server.socket, server_side=True)
    fake_dns("hooks.example", ["127.0.0.1"])
    fake_dns("other.example", ["127.0.0.1"])
    common = {"secret": b"k", "timeout": 2.0, "headers": {}, "allow_private": True}
    try:
        untrusted = post_json(f"https://hooks.example:{receiver.port}/hook", b"{}", **common)
        trusting = ssl.create_default_context(cafile=str(cert))
        monkeypatch.setattr(webhooks.ssl, "create_default_context", lambda: trusting)
        trusted = post_json(f"https://hooks.example:{receiver.port}/hook", b"{}", **common)
        wrong_name = post_json(f"https://other.example:{receiver.port}/hook", b"{}", **common)
    finally:
        receiver.close()
    assert (untrusted.status_code, untrusted.error) == (None, "TLS error")  # not a trusted certificate
    assert (trusted.status_code, trusted.error) == (200, "")
    assert (wrong_name.status_code, wrong_name.error) == (None, "TLS error")  # certificate names another host
    assert server_names == ["hooks.example", "hooks.example", "other.example"]
    [(headers, _, _)] = receiver.received
    assert headers["Host"] == f"hooks.example:{receiver.port}"
