"""Parses a /metrics answer (stdin) with the Prometheus project's own OpenMetrics parser, as a
scraper would, and prints its samples as JSON: [[name, {labels}, value], ...]. Fails on any text the
parser refuses."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append([s.name, s.labels, s.value])
print(json.dumps(samples))
