"""The sender port the outbox delivers through, and the two ways a send can fail.

``adapters.wechat.client.WeChatClient`` implements it against the real (or stubbed) WeChat API; its
typed errors subclass the ones below, so the domain never imports wechatpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from domain.notifications.rules import SubscribeApp


class DeliveryRejected(Exception):
    """The platform answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class DeliveryTransient(Exception):
    """A connection error or an HTTP 5xx: the platform did not take the message; try again later."""


class DeliveryUnconfirmed(DeliveryTransient):
    """The request went out but no answer came back in time (a read timeout): the platform may have
    delivered it. Retrying is safe only where the platform deduplicates (template ``client_msg_id``)."""


class Sender(Protocol):
    async def send_custom_text(self, openid: str, text: str) -> None: ...

    async def send_template(
        self, openid: str, *, template_id: str, data: Mapping[str, str], url: str, client_msg_id: str
    ) -> str:
        """Returns the platform's msgid (the TEMPLATESENDJOBFINISH event refers to it)."""
        ...

    async def send_subscribe(
        self, openid: str, *, app: SubscribeApp, template_id: str, data: Mapping[str, str], page: str
    ) -> None: ...
