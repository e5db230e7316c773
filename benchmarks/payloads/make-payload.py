#!/usr/bin/env python3
"""Builds checkout.session.completed.json: the event every benchmark sends.

A `checkout.session.completed` event made from Stripe's published example objects (shared/stripe/fixtures3.json),
as the tests' TestEvents build it: a paid guest checkout of the "license" fulfillment type, with the library's
routing metadata. The event and session ids are fixed-width placeholders (12 digits) that the benchmarks and the
load generator replace with a counter, so that every delivery is a new event and a new purchase.

Usage: python3 make-payload.py [path/to/fixtures3.json] > checkout.session.completed.json
"""
import json
import os
import sys

# By default, the workspace's copy beside the repository, found from this script's place rather than the caller's.
here = os.path.dirname(os.path.abspath(__file__))
fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared", "stripe", "fixtures3.json")
resources = json.load(open(fixtures, encoding="utf-8"))["resources"]

session = resources["checkout.session"]
session.update({
    "id": "cs_test_bench_000000000000",
    "status": "complete",
    "mode": "payment",
    "payment_status": "paid",
    "client_reference_id": "user-1",
    "customer": None,
    "customer_email": "guest@example.com",
    "amount_subtotal": 2900,
    "amount_total": 2900,
    "currency": "usd",
    "metadata": {
        "order_id": "1001",
        "wavhaven_type": "license",
        "wavhaven_user_id": "user-1",
        "wavhaven_buyer": "guest",
    },
})
session["customer_details"]["email"] = "guest@example.com"

event = resources["event"]
event.update({
    "id": "evt_test_bench_000000000000",
    "type": "checkout.session.completed",
    "api_version": "2026-10-28.endive",
    "created": 1764000000,
    "data": {"object": session},
})

# Compact, as the tests send it (Stripe itself pretty-prints; only the size changes).
sys.stdout.write(json.dumps(event, separators=(",", ":"), ensure_ascii=False))
