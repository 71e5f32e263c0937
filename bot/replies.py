"""Passive replies: CDATA-safe XML rendering and splitting long answers into WeChat-sized pieces.

A passive text reply carries at most 2048 bytes of content. wechatpy does not escape ``]]>`` inside
CDATA, so a user-supplied ``]]>`` would end the section and inject XML: it is split across two CDATA
sections here (``]]]]><![CDATA[>``).
"""

from __future__ import annotations

MAX_REPLY_BYTES = 2048
SUCCESS = "success"


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(*, to_user: str, from_user: str, text: str, create_time: int) -> str:
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(text)}</Content>"
        "</xml>"
    )


def _cut(text: str, limit: int) -> int:
    """The longest prefix (in characters) within ``limit`` UTF-8 bytes, preferring a line break."""
    size = 0
    cut = 0
    for index, char in enumerate(text):
        size += len(char.encode())
        if size > limit:
            break
        cut = index + 1
    if cut < len(text):
        newline = text.rfind("\n", 0, cut)
        if newline > cut // 2:
            return newline + 1
    return cut


def split_reply(text: str, *, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Pieces of at most ``limit`` bytes each, cut at line breaks where that keeps pieces reasonably full."""
    pieces: list[str] = []
    rest = text
    while len(rest.encode()) > limit:
        cut = _cut(rest, limit)
        pieces.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces
