"""Verifies recorded webhook requests with the Standard Webhooks reference library (PyPI
`standardwebhooks`), as a customer's receiver would. Run by tests/api/receiver.rs:
    python3 webhook_verify.py HITS.json     # {"secret": "whsec_…", "hits": [{"headers": {…}, "body": base64}]}
Prints "verified N" and exits 0 when every request verifies; raises otherwise."""
import base64
import json
import sys

from standardwebhooks import Webhook

doc = json.load(open(sys.argv[1]))
wh = Webhook(doc["secret"])
for hit in doc["hits"]:
    body = base64.b64decode(hit["body"])
    payload = wh.verify(body, hit["headers"])
    assert payload["id"] == hit["headers"]["webhook-id"], (payload, hit["headers"])
print(f"verified {len(doc['hits'])}")
