"""The embedded MQTT broker for ``make run`` (amqtt, MQTT 3.1.1, anonymous, localhost only)."""

from __future__ import annotations

import logging
from typing import Any

from amqtt.broker import Broker

log = logging.getLogger(__name__)


class EmbeddedBroker:
    def __init__(self, *, port: int, host: str = "127.0.0.1") -> None:
        self._config: dict[str, Any] = {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 2000}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
        self._broker: Broker | None = None
        self.port = port

    async def start(self) -> None:
        self._broker = Broker(self._config)
        await self._broker.start()
        log.info("embedded MQTT broker on 127.0.0.1:%s", self.port)

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
