"""Hotline's Prometheus instruments, counted where things happen (the webhook runner,
the REST gateway, the apology). ``admin.metrics`` serves them with what the database
says at scrape time (``reports.gauges``).

They live in prometheus-client's default registry. Under several gunicorn workers
(``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker imports
this) each process writes its values to files there, and a scrape adds them up.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

# Where each process writes its values in multiprocess mode; prometheus-client reads
# it when first imported, so it must be set before (gunicorn.conf.py sets it).
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

# Twilio waits 15 s for a webhook's answer (twilio.com/docs/api/errors/11205), and the
# database's waits are bounded at 3 s (models.db): finer below a second, up to the limit.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)

WEBHOOK_SECONDS = Histogram(
    "hotline_webhook_duration_seconds",
    "Time to answer a Twilio webhook, by webhook (the Flask endpoint)",
    ["webhook"],
    buckets=LATENCY_BUCKETS,
)
REST_FAILURES = Counter(
    "hotline_twilio_rest_failures",
    "Requests to Twilio's REST API that failed, by request and why: refused (Twilio"
    " answered an error), unreachable (no answer in time, or no connection)",
    ["request", "reason"],
)
FALLBACK_ANSWERS = Counter(
    "hotline_fallback_answers",
    "Apologies given instead of the step asked for, by cause: caller_webhook and"
    " agent_webhook (a webhook failed inside), fallback_url (Twilio gave up on a webhook),"
    " failure_path (the failure path itself failed)",
    ["cause"],
)


def scrape_registry() -> CollectorRegistry:
    """A registry for one scrape, with what the instruments have counted: in multiprocess
    mode every process's, from their files (as prometheus-client's "Multiprocess Mode"
    page, prometheus.github.io/client_python/multiprocess/, has the app do), else this
    process's own. Whoever serves the scrape adds their collectors to it."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_DIRECTORY):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(REGISTRY)
    return registry
