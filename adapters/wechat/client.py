"""The WeChat API client: official account and mini-program, on top of wechatpy.

What this wrapper adds to wechatpy (see DOMAIN.md "WeChat official account"):
- ``auto_retry`` is off (wechatpy's retry recurses without bound) and a timeout is always passed;
- wechatpy is synchronous, so every call runs in a thread (``asyncio.to_thread``);
- the API base is configurable for both apps (tests point it at ``tests/wechat_stub``);
- the access token comes from ``stable_token`` through ``TokenStore`` (cache + lock); wechatpy never
  fetches one itself: params are passed as a list of pairs, which wechatpy leaves alone;
- a rejected token (40001/40014/42001) is refreshed once and the call retried once, never more;
- template messages are posted by hand, because wechatpy's ``send_template`` has no ``client_msg_id``;
- failures are typed: ``WeChatApiError(errcode, errmsg)`` or ``WeChatTransientError`` (timeouts,
  connection errors, HTTP 5xx), and ``WeChatUnconfirmedError`` when a sent request's answer timed out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from wechatpy import WeChatClient as WechatpyClient
from wechatpy.exceptions import WeChatClientException

from adapters.wechat.tokens import TokenStore, TokenUnavailable
from config.settings import Settings
from domain.notifications.ports import DeliveryRejected, DeliveryTransient, DeliveryUnconfirmed
from domain.notifications.rules import NOT_CONFIGURED, TOKEN_ERRCODES, SubscribeApp
from domain.ports import Cache, Lock

log = logging.getLogger(__name__)

Params = list[tuple[str, str]]


class WeChatApiError(DeliveryRejected):
    """WeChat answered with a non-zero errcode (or an HTTP 4xx, reported as that status)."""


class WeChatTransientError(DeliveryTransient):
    """A connection error or an HTTP 5xx: worth retrying later."""


class WeChatUnconfirmedError(WeChatTransientError, DeliveryUnconfirmed):
    """The request was sent and the answer timed out: WeChat may have acted on it."""


class WeChatNotConfigured(DeliveryRejected):
    """The app (official account or mini-program) has no credentials in the settings.

    A refusal like the platform's, so the outbox falls back to another channel instead of crashing.
    """

    def __init__(self, which: str) -> None:
        super().__init__(NOT_CONFIGURED, f"{which} credentials are not configured")


@dataclass(frozen=True, slots=True)
class AppCredentials:
    appid: str
    secret: str


@dataclass(frozen=True, slots=True)
class MiniProgramSession:
    """``jscode2session``'s answer. ``session_key`` stays on the server: never send it to a client."""

    openid: str
    session_key: str
    unionid: str = ""


@dataclass(frozen=True, slots=True)
class Media:
    data: bytes
    content_type: str


def _values(data: Mapping[str, str]) -> dict[str, dict[str, str]]:
    return {name: {"value": value} for name, value in data.items()}


class _App:
    """One WeChat app: its wechatpy client and its token store."""

    def __init__(
        self, credentials: AppCredentials, *, cache: Cache, lock: Lock, client: WeChatClient
    ) -> None:
        self.credentials = credentials
        self.wechatpy = WechatpyClient(
            credentials.appid, credentials.secret, timeout=client.timeout_s, auto_retry=False
        )
        self.tokens = TokenStore(
            cache=cache,
            lock=lock,
            appid=credentials.appid,
            fetch=lambda force: client.fetch_stable_token(self, force_refresh=force),
            wait_s=client.timeout_s * 2,
        )


class WeChatClient:
    """Implements ``domain.notifications.ports.Sender`` plus media, menu and mini-program login."""

    def __init__(
        self,
        *,
        api_base: str,
        official: AppCredentials | None,
        miniprogram: AppCredentials | None,
        cache: Cache,
        lock: Lock,
        timeout_s: float,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self._official = _App(official, cache=cache, lock=lock, client=self) if official else None
        self._miniprogram = _App(miniprogram, cache=cache, lock=lock, client=self) if miniprogram else None

    def _app(self, mini: bool) -> _App:
        app = self._miniprogram if mini else self._official
        if app is None:
            raise WeChatNotConfigured("mini-program" if mini else "official account")
        return app

    # --- transport ---------------------------------------------------------------------------------
    def _request_sync(
        self, app: _App, method: str, path: str, *, params: Params, body: dict[str, Any] | None
    ) -> Any:
        kwargs: dict[str, Any] = {"params": params, "timeout": self.timeout_s}
        if body is not None:
            kwargs["data"] = body  # wechatpy serialises dicts as UTF-8 JSON (ensure_ascii=False)
        try:
            return app.wechatpy._request(method, self.api_base + path, **kwargs)
        except WeChatClientException as error:
            if error.errcode is not None:
                raise WeChatApiError(int(error.errcode), str(error.errmsg)) from error
            status = getattr(error.response, "status_code", None)
            if status is None or status >= 500:
                raise WeChatTransientError(f"HTTP {status} from {path}") from error
            raise WeChatApiError(int(status), f"HTTP {status}") from error
        except requests.ReadTimeout as error:  # sent, unanswered: the platform may have acted
            raise WeChatUnconfirmedError(f"no answer in {self.timeout_s}s from {path}") from error
        except requests.RequestException as error:  # connect timeouts, refused connections, broken bodies
            raise WeChatTransientError(f"{type(error).__name__} calling {path}") from error

    async def _request(
        self, app: _App, method: str, path: str, *, params: Params, body: dict[str, Any] | None = None
    ) -> Any:
        return await asyncio.to_thread(self._request_sync, app, method, path, params=params, body=body)

    async def _call(
        self,
        app: _App,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """An authenticated call: one token refresh and one retry on a rejected token, never more."""
        token = await self._token(app)
        try:
            return await self._request(
                app, method, path, params=[("access_token", token), *(params or [])], body=body
            )
        except WeChatApiError as error:
            if error.errcode not in TOKEN_ERRCODES:
                raise
            log.info(
                "access token rejected (%s) for %s: refreshing once", error.errcode, app.credentials.appid
            )
            try:
                token = await app.tokens.after_rejection(token)
            except TokenUnavailable as busy:
                raise WeChatTransientError(str(busy)) from busy
        return await self._request(
            app, method, path, params=[("access_token", token), *(params or [])], body=body
        )

    async def _token(self, app: _App) -> str:
        try:
            return await app.tokens.get()
        except TokenUnavailable as busy:
            raise WeChatTransientError(str(busy)) from busy

    async def access_token(self, *, mini: bool = False) -> str:
        """The current access token of the official account (or the mini-program): a real fetch
        when none is cached, which is what ``config doctor`` uses to check credentials."""
        return await self._token(self._app(mini))

    async def fetch_stable_token(self, app: _App, *, force_refresh: bool) -> tuple[str, int]:
        body = {
            "grant_type": "client_credential",
            "appid": app.credentials.appid,
            "secret": app.credentials.secret,
            "force_refresh": force_refresh,
        }
        result = await self._request(app, "post", "/cgi-bin/stable_token", params=[], body=body)
        return str(result["access_token"]), int(result.get("expires_in", 7200))

    def _link(self, target: str) -> dict[str, Any]:
        """A web URL, or a mini-program page ("/pages/...") when the mini-program is configured."""
        if target.startswith(("https://", "http://")):
            return {"url": target}
        if target and self._miniprogram is not None:
            return {
                "miniprogram": {"appid": self._miniprogram.credentials.appid, "pagepath": target.lstrip("/")}
            }
        return {}

    # --- official account -------------------------------------------------------------------------
    async def send_custom_text(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call(self._app(False), "post", "/cgi-bin/message/custom/send", body=body)

    async def send_template(
        self, openid: str, *, template_id: str, data: Mapping[str, str], url: str, client_msg_id: str
    ) -> str:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": _values(data),
            "client_msg_id": client_msg_id,
        }
        body.update(self._link(url))
        result = await self._call(self._app(False), "post", "/cgi-bin/message/template/send", body=body)
        return str(result.get("msgid", ""))

    async def send_subscribe(
        self, openid: str, *, app: SubscribeApp, template_id: str, data: Mapping[str, str], page: str
    ) -> None:
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": _values(data)}
        if app is SubscribeApp.WXA:
            if page:
                body["page"] = page.lstrip("/")
            await self._call(self._app(True), "post", "/cgi-bin/message/subscribe/send", body=body)
            return
        body.update(self._link(page))
        await self._call(self._app(False), "post", "/cgi-bin/message/subscribe/bizsend", body=body)

    async def get_media_with_type(self, media_id: str) -> Media:
        response = await self._call(
            self._app(False), "get", "/cgi-bin/media/get", params=[("media_id", media_id)]
        )
        if not isinstance(response, requests.Response):
            raise WeChatApiError(-2, "media/get answered JSON without media")
        content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0].strip()
        return Media(response.content, content_type)

    async def get_media(self, media_id: str) -> bytes:
        """The bytes of an image/voice the user sent (``MediaId``), valid 3 days on the platform."""
        return (await self.get_media_with_type(media_id)).data

    async def create_menu(self, menu: Mapping[str, Any]) -> None:
        await self._call(self._app(False), "post", "/cgi-bin/menu/create", body=dict(menu))

    # --- mini-program -----------------------------------------------------------------------------
    async def code_to_session(self, js_code: str) -> MiniProgramSession:
        app = self._app(True)
        params = [
            ("appid", app.credentials.appid),
            ("secret", app.credentials.secret),
            ("js_code", js_code),
            ("grant_type", "authorization_code"),
        ]
        result = await self._request(app, "get", "/sns/jscode2session", params=params)
        if not isinstance(result, dict) or not result.get("openid"):
            raise WeChatApiError(-2, "jscode2session answered without an openid")
        return MiniProgramSession(
            openid=str(result["openid"]),
            session_key=str(result.get("session_key", "")),
            unionid=str(result.get("unionid", "")),
        )


def client_from_settings(settings: Settings, *, cache: Cache, lock: Lock) -> WeChatClient:
    """The client for whichever apps have credentials (a missing one raises ``WeChatNotConfigured``)."""
    official = (
        AppCredentials(settings.wechat_appid, settings.wechat_secret.get_secret_value())
        if settings.wechat_configured
        else None
    )
    wxa_secret = settings.wxa_secret.get_secret_value()
    miniprogram = (
        AppCredentials(settings.wxa_appid, wxa_secret) if settings.wxa_appid and wxa_secret else None
    )
    return WeChatClient(
        api_base=settings.wechat_api_base,
        official=official,
        miniprogram=miniprogram,
        cache=cache,
        lock=lock,
        timeout_s=settings.wechat_timeout_s,
    )
