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


class SmsRejected(Exception):
    """The SMS provider refused the message with its own error code (``isv.MOBILE_NUMBER_ILLEGAL``...)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class SmsSender(Protocol):
    """The SMS port: a recording adapter in embedded mode, a provider adapter in production."""

    async def send(self, phone: str, *, template_code: str, params: Mapping[str, str], out_id: str) -> str:
        """Send one templated SMS; returns the provider's id for it (Aliyun ``BizId``).

        Raises ``SmsRejected`` for a refusal, ``DeliveryTransient`` for a timeout or connection error.
        """
        ...
