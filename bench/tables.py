#!/usr/bin/env python3
"""Turns the JSON reports of bench/run-matrix.sh into the Markdown tables of BENCHMARKS.md.
Usage: bench/tables.py [OUT_DIR]"""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "bench-results"


def load(name):
    path = os.path.join(out, f"{name}.json")
    return json.load(open(path)) if os.path.exists(path) else None


def runs(report):
    return {(r["scenario"], r["concurrency"]): r for r in report["runs"]} if report else {}


peer = runs(load("oidc-provider"))
peer_jwt = runs(load("oidc-provider-jwt"))
scenarios = ["refresh_token", "client_credentials", "introspect", "userinfo", "jwks", "password"]
for backend in ["sqlite", "postgres"]:
    for alg in ["RS256", "ES256"]:
        report = load(f"{backend}-{alg}")
        if not report:
            continue
        print(f"\n### {backend}, {alg}" + (" (access + id token: two signatures per refresh)" if alg == "RS256" else " (access + id token)"))
        print(f"\nStart-up to first served request: {report.get('startup_ms') or 0:.0f} ms; "
              f"RSS idle {(report.get('rss_idle_kib') or 0) / 1024:.1f} MiB, "
              f"highest under load {max((r.get('rss_max_kib') or 0) for r in report['runs']) / 1024:.1f} MiB.\n")
        print("| scenario | c | req/s | p50 ms | p90 ms | p99 ms | max ms | errors "
              "| oidc-provider req/s | p99 ms | ratio | oidc-provider JWT req/s | ratio |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        ours = runs(report)
        for scenario in scenarios:
            for c in [1, 8, 32, 128]:
                r = ours.get((scenario, c))
                if not r:
                    continue
                p = peer.get((scenario, c))
                errors = sum(r["errors"].values())
                peer_cols = (f"{p['throughput']:.0f} | {p['p99_ms']:.1f} | {r['throughput'] / p['throughput']:.2f}x"
                             if p and p["throughput"] > 0 else "- | - | -")
                j = peer_jwt.get((scenario, c))
                peer_cols += (f" | {j['throughput']:.0f} | {r['throughput'] / j['throughput']:.2f}x"
                              if j and j["throughput"] > 0 else " | - | -")
                print(f"| {scenario} | {c} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
                      f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {errors or 0} | {peer_cols} |")

extra = [("sqlite-ES256-no-id-token", "SQLite, ES256, refresh without id token"),
         ("postgres-ES256-no-id-token", "Postgres, ES256, refresh without id token"),
         ("storm-sqlite-refresh", "SQLite: refresh during a password storm"),
         ("storm-sqlite-logins", "SQLite: the storm's password logins"),
         ("storm-postgres-refresh", "Postgres: refresh during a password storm"),
         ("storm-postgres-logins", "Postgres: the storm's password logins")]
print("\n| run | c | req/s | p50 ms | p99 ms | max ms | errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for name, label in extra:
    report = load(name)
    for r in (report or {}).get("runs", []):
        print(f"| {label} | {r['concurrency']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['max_ms']:.1f} | {sum(r['errors'].values())} |")
