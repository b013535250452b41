"""incidentlog: post-incident reports, error digests and a greppable history for Docker Compose."""

from __future__ import annotations

__version__ = "0.1.0"
