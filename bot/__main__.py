"""``python -m bot menu push [--file config/menu.json]``: publish the custom menu through the WeChat API.

Settings come from the environment (``WECHAT_APPID``, ``WECHAT_SECRET``, ``WECHAT_API_BASE``, ...), as for
the server. Without Redis, the access token is fetched with ``stable_token`` into an in-process cache.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from redis.asyncio import Redis

from adapters import memory, redis_ports
from adapters.wechat.client import WeChatApiError, WeChatTransientError, client_from_settings
from bot.menu import MENU_PATH, MenuError, load_menu
from config.settings import Settings, load_settings
from domain.ports import Cache, Lock

log = logging.getLogger("bot")


async def push_menu(settings: Settings, *, path: Path = MENU_PATH) -> None:
    menu = load_menu(path)
    if not settings.wechat_configured:
        raise MenuError("WECHAT_APPID and WECHAT_SECRET are required to push the menu")
    cache: Cache
    lock: Lock
    client: Redis | None = None
    if settings.redis_url:
        # Share the token with the running servers: one stable token for everybody.
        client = redis_ports.connect(settings.redis_url)
        cache, lock = (
            redis_ports.RedisCache(client, settings.redis_key_prefix),
            redis_ports.RedisLock(client, settings.redis_key_prefix),
        )
    else:
        cache, lock = memory.MemoryCache(), memory.MemoryLock()
    try:
        await client_from_settings(settings, cache=cache, lock=lock).create_menu(menu)
    finally:
        if client is not None:
            await client.aclose()
    log.info("menu pushed: %s top-level buttons", len(menu["button"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="area", required=True)
    menu = commands.add_parser("menu", help="the official account's custom menu")
    menu.add_argument("action", choices=["push", "check"])
    menu.add_argument("--file", type=Path, default=MENU_PATH)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.action == "check":
            load_menu(args.file)
            log.info("%s is a valid menu", args.file)
            return 0
        asyncio.run(push_menu(load_settings(), path=args.file))
    except (MenuError, WeChatApiError, WeChatTransientError, OSError, ValueError) as error:
        log.error("menu %s failed: %s", args.action, error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
