"""Build the configured engine, and feed it names from the database.

The composition root hands in plain values (this package never reads settings or the environment).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from nlu.embedded.engine import DEFAULT_TRAINING_PATH, EmbeddedEngine
from nlu.rasa_client import GazetteerEngine, RasaEngine

log = logging.getLogger(__name__)


def build_engine(
    *,
    backend: str,
    data_dir: Path | None,
    fallback_threshold: float,
    rasa_url: str = "",
    rasa_token: str = "",
    rasa_timeout_s: float = 2.0,
    training_path: Path = DEFAULT_TRAINING_PATH,
) -> GazetteerEngine:
    """Blocking (training takes a few seconds without a cache): call it through ``asyncio.to_thread``."""
    embedded = EmbeddedEngine.load_or_train(
        cache_dir=data_dir / "nlu" if data_dir is not None else None,
        fallback_threshold=fallback_threshold,
        training_path=training_path,
    )
    if str(backend) == "rasa":
        if not rasa_url:
            raise ValueError("NLU_BACKEND=rasa needs RASA_URL")
        log.info("NLU backend: rasa at %s (embedded engine as fallback)", rasa_url)
        return RasaEngine(url=rasa_url, token=rasa_token, timeout_s=rasa_timeout_s, fallback=embedded)
    log.info("NLU backend: embedded")
    return embedded


async def refresh_gazetteer(
    engine: GazetteerEngine,
    *,
    projects: Iterable[tuple[str, str]] = (),
    companies: Iterable[str] = (),
    locations: Iterable[str] = (),
) -> int:
    """Replace the database names the engine recognises: (code, name) projects, enterprise names and
    road/town names. Indexing 10k names takes a moment, so it runs off the event loop."""
    projects, companies, locations = list(projects), list(companies), list(locations)
    size = await asyncio.to_thread(
        engine.refresh_gazetteer, projects=projects, companies=companies, locations=locations
    )
    log.info(
        "NLU gazetteer: %d projects, %d companies, %d places -> %d names",
        len(projects),
        len(companies),
        len(locations),
        size,
    )
    return size
