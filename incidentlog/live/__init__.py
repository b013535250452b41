"""The live Docker Engine: collect a running compose project, and its health now."""

from __future__ import annotations

from incidentlog.live.client import Engine, connect
from incidentlog.live.collector import CollectOptions, CollectStats, run_collect, stop_on_signals

__all__ = ["CollectOptions", "CollectStats", "Engine", "connect", "run_collect", "stop_on_signals"]
