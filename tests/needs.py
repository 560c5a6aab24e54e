"""What some tests need from the machine (a browser, nginx, PostgreSQL's programs): a
missing part skips them, saying what to install, and fails them under CI (``CI=true``),
where .ci/run installs it and its absence is a fault."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from tests.clusters import Cluster, ClusterUnavailable, server_programs


def missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def private_cluster() -> Cluster:
    """A PostgreSQL cluster of the test's own (tests.clusters), to use as a context."""
    try:
        return Cluster.create()
    except ClusterUnavailable as exc:
        missing(str(exc))


def cluster_programs() -> None:
    """PostgreSQL's server programs, for a bench script that makes its own cluster."""
    try:
        server_programs()
    except ClusterUnavailable as exc:
        missing(str(exc))
