"""What each message type and event does: text and location go to the dialogue engine, images become
evidence, voice asks for text, events welcome, erase, remember or record a delivery receipt."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from adapters.uploads import validate_image
from adapters.wechat.client import WeChatApiError, WeChatNotConfigured, WeChatTransientError
from adapters.wechat.dispatcher import handle_template_send_job_finish
from bot import messages
from bot.dialogue import DialogueEngine, UserInput
from bot.dialogue.store import erase, remember_location
from bot.inbound import InboundMessage
from domain.accounts.rules import mask_openid
from domain.conversations.services import erase_user
from domain.errors import ValidationFailed
from domain.events import DomainEvent
from domain.geo import gcj02_to_wgs84
from domain.notifications.services import forget_user
from domain.outbox import services as outbox

log = logging.getLogger(__name__)

USER_UNSUBSCRIBED = "UserUnsubscribed"
BIND_SCENE_PREFIX = "bind:"
SUBSCRIBE_SCENE_PREFIX = "qrscene_"
# Message kinds and events by which the user "interacts" (WeChat opens the 48 h custom-message window).
INTERACTIVE_EVENTS = frozenset({"SUBSCRIBE", "SCAN", "CLICK", "VIEW"})


def opens_window(message: InboundMessage) -> bool:
    return message.msg_type != "event" or message.event in INTERACTIVE_EVENTS


class MessageHandler:
    def __init__(self, engine: DialogueEngine) -> None:
        self.engine = engine
        self.deps = engine.deps

    async def handle(self, message: InboundMessage, *, now: dt.datetime) -> str:
        """The reply text for one message ("" means no reply: WeChat gets ``success``)."""
        by_type = {
            "text": self._text,
            "location": self._location,
            "image": self._image,
            "voice": self._voice,
            "event": self._event,
        }
        handler = by_type.get(message.msg_type)
        return await handler(message, now=now) if handler else messages.UNSUPPORTED_MESSAGE

    async def _text(self, message: InboundMessage, *, now: dt.datetime) -> str:
        return await self.engine.respond(
            message.from_user, UserInput(text=message.content, message=message), now=now
        )

    async def _location(self, message: InboundMessage, *, now: dt.datetime) -> str:
        assert message.latitude is not None and message.longitude is not None  # checked by to_message
        # The one datum conversion of the official account: WeChat's map is Tencent's (GCJ-02); the
        # registry, nearby search, dispatch and the GeoJSON layers all use WGS-84.
        point = gcj02_to_wgs84(message.latitude, message.longitude)
        user_input = UserInput(location=point, location_label=message.label, message=message)
        return await self.engine.respond(message.from_user, user_input, now=now)

    async def _voice(self, message: InboundMessage, *, now: dt.datetime) -> str:
        if message.recognition:
            user_input = UserInput(text=message.recognition, message=message)
            return await self.engine.respond(message.from_user, user_input, now=now)
        # Keep the voice for the dialogue in progress (it is evidence), but we cannot read it.
        await self.engine.add_evidence(message.from_user, f"wxvoice:{message.media_id}", now=now)
        return messages.VOICE_NEEDS_TEXT

    async def _image(self, message: InboundMessage, *, now: dt.datetime) -> str:
        ref = await self._fetch_image(message)
        if ref is None:
            return messages.IMAGE_FAILED
        answered = await self.engine.on_photo(message.from_user, ref, now=now)
        if answered is not None:
            return answered
        in_dialogue = await self.engine.add_evidence(message.from_user, ref, now=now)
        return messages.IMAGE_RECEIVED_FOR_DIALOGUE if in_dialogue else messages.IMAGE_RECEIVED

    async def _fetch_image(self, message: InboundMessage) -> str | None:
        """The media-store ref of the photo; without WeChat credentials, the platform's media id."""
        wechat, media = self.deps.wechat, self.deps.media
        if wechat is None or media is None:
            return f"wxmedia:{message.media_id}"
        settings = self.deps.settings
        try:
            data = await wechat.get_media(message.media_id)
            info = await asyncio.to_thread(
                validate_image, data, max_bytes=settings.media_max_bytes, max_pixels=settings.media_max_pixels
            )
            return str(await media.put(data, content_type=info.content_type))
        except (WeChatApiError, WeChatTransientError, WeChatNotConfigured, ValidationFailed) as error:
            log.warning("image from %s not stored: %s", mask_openid(message.from_user), error)
            return None

    async def _event(self, message: InboundMessage, *, now: dt.datetime) -> str:
        by_event = {
            "SUBSCRIBE": self._subscribe,
            "SCAN": self._scan,
            "UNSUBSCRIBE": self._unsubscribe,
            "CLICK": self._click,
            "LOCATION": self._location_report,
            "TEMPLATESENDJOBFINISH": self._template_receipt,
        }
        handler = by_event.get(message.event)
        return await handler(message, now=now) if handler else ""  # VIEW, location_select, ...

    async def _subscribe(self, message: InboundMessage, *, now: dt.datetime) -> str:
        key = message.event_key
        scene = key.removeprefix(SUBSCRIBE_SCENE_PREFIX) if key.startswith(SUBSCRIBE_SCENE_PREFIX) else ""
        if scene.startswith(BIND_SCENE_PREFIX):
            return messages.BIND_WELCOME_PREFIX + await self._bind(message.from_user, scene, now=now)
        return messages.WELCOME

    async def _scan(self, message: InboundMessage, *, now: dt.datetime) -> str:
        if message.event_key.startswith(BIND_SCENE_PREFIX):
            return await self._bind(message.from_user, message.event_key, now=now)
        return messages.MENU_HINT

    async def _unsubscribe(self, message: InboundMessage, *, now: dt.datetime) -> str:
        await self._forget(message.from_user)
        return ""

    async def _location_report(self, message: InboundMessage, *, now: dt.datetime) -> str:
        # Reported on every visit: remembered silently for "附近", never answered.
        if message.latitude is not None and message.longitude is not None:
            # Reported by the WeChat client on the Tencent map like a location message: GCJ-02.
            lat, lng = gcj02_to_wgs84(message.latitude, message.longitude)
            await remember_location(self.deps.infra.cache, message.from_user, lat=lat, lng=lng)
        return ""

    async def _template_receipt(self, message: InboundMessage, *, now: dt.datetime) -> str:
        await handle_template_send_job_finish(message.msg_id, message.status, now=now)
        return ""

    async def _click(self, message: InboundMessage, *, now: dt.datetime) -> str:
        openid, key = message.from_user, message.event_key
        kind, _, value = key.partition(":")
        if kind == "intent" and value:
            return await self.engine.respond(openid, UserInput(intent=value, message=message), now=now)
        if kind == "text" and value:
            return await self.engine.respond(openid, UserInput(text=value, message=message), now=now)
        if kind == "nearby":  # the projects near the user: no NLU guess needed
            user_input = UserInput(text="附近", intent="query_project", message=message)
            return await self.engine.respond(openid, user_input, now=now)
        if kind == "help":
            return messages.HELP
        log.info("unknown menu key %r from %s", key[:64], mask_openid(openid))
        return messages.MENU_HINT

    async def _bind(self, openid: str, scene: str, *, now: dt.datetime) -> str:
        token = scene.removeprefix(BIND_SCENE_PREFIX)
        hook = self.deps.hooks.bind_site
        if hook is None or not token:
            return messages.BIND_HOW_TO
        return await hook(openid, token, now=now)

    async def _forget(self, openid: str) -> None:
        """Unsubscribe: erase what this context keeps and tell the others to erase theirs."""
        await erase(self.deps.infra.cache, openid)
        removed = await erase_user(openid)
        await forget_user(openid)  # the outbox: pending messages, the custom-message window, credits
        await outbox.record(DomainEvent(USER_UNSUBSCRIBED, {"openid": openid}), aggregate="subscription")
        log.info("erased data of unsubscribed %s (%s queue entries)", mask_openid(openid), removed)
