"""Webhooks: signed POST when a job ends, retried with backoff, every attempt recorded.

A real HTTP server on 127.0.0.1 receives them.
"""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "test-webhook-secret"


class Receiver:
    """An HTTP server that answers the given statuses in turn (then 200), or stalls."""

    def __init__(self, statuses=(), stall_seconds=0.0):
        self.statuses = list(statuses)
        self.stall_seconds = stall_seconds
        self.received = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body, time.monotonic()))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.stall_seconds and len(receiver.received) == 1:
                    time.sleep(receiver.stall_seconds)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
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


def upload(client, path, **fields):
    with open(path, "rb") as f:
        return client.post("/api/v1/images", {"file": f, **fields})


def test_webhook_signed_body_on_success(client, sample_csv, fast_webhooks):
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
    detail = client.get(f"/api/v1/images/{image['id']}").json()
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in detail["webhook_deliveries"]] == [
        (1, 200, True)
    ]


def test_webhook_retries_with_backoff_and_records_every_attempt(client, write_csv, fast_webhooks):
    receiver = Receiver(statuses=[500, 503])
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,x"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    assert len(receiver.received) == 3
    times = [t for _, _, t in receiver.received]
    assert times[1] - times[0] >= 0.05 and times[2] - times[1] >= 0.1  # doubling backoff
    payload = json.loads(receiver.received[-1][1])
    assert payload["status"] == "failed" and payload["error"]["line"] == 3
    deliveries = client.get(f"/api/v1/images/{image['image']['id']}").json()["webhook_deliveries"]
    assert [(d["attempt"], d["status_code"], d["delivered"]) for d in deliveries] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]


def test_webhook_timeout_is_retried(client, write_csv, fast_webhooks):
    receiver = Receiver(stall_seconds=1.0)
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    deliveries = client.get(f"/api/v1/images/{image['id']}").json()["webhook_deliveries"]
    assert deliveries[0]["status_code"] is None and "no answer" in deliveries[0]["error"]
    assert deliveries[-1]["delivered"] is True


def test_webhook_gives_up_after_max_attempts(client, write_csv, fast_webhooks, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver = Receiver(statuses=[500, 500, 500])
    try:
        image = upload(client, write_csv(["depth,col1", "1,2", "2,3"]), webhook_url=receiver.url).json()
    finally:
        receiver.close()
    deliveries = client.get(f"/api/v1/images/{image['id']}").json()["webhook_deliveries"]
    assert [d["delivered"] for d in deliveries] == [False, False]


def test_webhook_url_must_be_http(client, write_csv):
    response = upload(client, write_csv(["depth,col1", "1,2"]), webhook_url="not a url")
    assert response.status_code == 400
    assert "webhook_url" in response.json()["error"]["fields"]
