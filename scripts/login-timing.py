#!/usr/bin/env python3
"""User enumeration by timing: compares how long the password grant takes to refuse an unknown
user and a known user with a wrong password (SECURITY.md). The two kinds of request are
interleaved, so machine noise hits both alike; the medians should match within noise, because an
unknown user is checked against a dummy argon2id hash.

Usage: scripts/login-timing.py [ROUNDS]   (starts target/release/portcullis start-dev itself)
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 40
PORT = 3300
BASE = f"http://127.0.0.1:{PORT}"
TOKEN = f"{BASE}/realms/timing/protocol/openid-connect/token"

realm = {
    "realm": "timing",
    "clients": [{"clientId": "app", "secret": "timing-secret-0123456789", "publicClient": False,
                 "directAccessGrantsEnabled": True, "redirectUris": ["http://127.0.0.1/cb"]}],
    "users": [{"username": "alice", "enabled": True,
               "credentials": [{"type": "password", "value": "the-right-password"}]}],
}


def attempt(username):
    body = urllib.parse.urlencode({"grant_type": "password", "client_id": "app",
                                   "client_secret": "timing-secret-0123456789",
                                   "username": username, "password": "a-wrong-password"}).encode()
    started = time.perf_counter()
    try:
        urllib.request.urlopen(urllib.request.Request(TOKEN, data=body), timeout=10)
        status = 200
    except urllib.error.HTTPError as e:
        status, answer = e.code, json.loads(e.read())
        assert answer["error_description"] == "Invalid user credentials", answer
    took = (time.perf_counter() - started) * 1000
    assert status == 401, status
    return took


with tempfile.TemporaryDirectory() as data:
    realm_file = os.path.join(data, "realm.json")
    with open(realm_file, "w") as f:
        json.dump(realm, f)
    env = dict(os.environ, PORTCULLIS_RATE_LIMIT_TOKEN_PER_IP="0", PORTCULLIS_RATE_LIMIT_TOKEN_PER_CLIENT="0",
               PORTCULLIS_RATE_LIMIT_PASSWORD_FAILURES_PER_IP="0")
    server = subprocess.Popen(["target/release/portcullis", "start-dev", "--data-dir", data, "--http-port", str(PORT),
                               "--log-level", "error", "--import-realm", realm_file], env=env,
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{BASE}/realms/timing/.well-known/openid-configuration", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        attempt("alice"), attempt("nobody")  # warm-up (the dummy hash is made on first use)
        known, unknown = [], []
        for i in range(ROUNDS):
            # alternate which goes first, so neither kind always follows the other
            pair = [("alice", known), (f"nobody-{i}", unknown)]
            for name, into in (pair if i % 2 == 0 else pair[::-1]):
                into.append(attempt(name))
        k, u = statistics.median(known), statistics.median(unknown)
        print(f"rounds: {ROUNDS}")
        print(f"wrong password, known user: median {k:.1f} ms (p10 {sorted(known)[ROUNDS // 10]:.1f}, p90 {sorted(known)[ROUNDS * 9 // 10]:.1f})")
        print(f"unknown user:               median {u:.1f} ms (p10 {sorted(unknown)[ROUNDS // 10]:.1f}, p90 {sorted(unknown)[ROUNDS * 9 // 10]:.1f})")
        print(f"difference of medians: {abs(k - u):.1f} ms ({abs(k - u) / max(k, u) * 100:.1f} %)")
    finally:
        server.terminate()
        server.wait()
