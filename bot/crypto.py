"""WeChat callback signatures and safe-mode (AES) encryption, on top of wechatpy's real crypto.

wechatpy compares signatures with ``!=`` and checks no timestamp, so the signature is checked here
first, in constant time, and only then handed to ``WeChatCrypto.decrypt_message`` (with the
*msg_signature*, which covers the Encrypt field). During an EncodingAESKey rotation the previous key
keeps decrypting, and a reply is encrypted with the key the request came in with.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException


class Rejected(Exception):
    """A request the webhook refuses: ``status`` is the HTTP status, ``reason`` a short log code."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 over the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def signature_matches(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


def check_timestamp(timestamp: str, *, now_s: float, max_skew_s: int) -> None:
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:  # "³".isdigit() is True
        raise Rejected(400, "bad_timestamp")
    if abs(int(timestamp) - now_s) > max_skew_s:
        raise Rejected(403, "stale_timestamp")


# What decrypting with the wrong key (or a mangled ciphertext) raises inside wechatpy/cryptography.
_DECRYPT_ERRORS = (
    InvalidAppIdException,
    InvalidSignatureException,
    ValueError,  # includes binascii.Error and UnicodeDecodeError
    struct.error,
    IndexError,
    TypeError,
    binascii.Error,
)


@dataclass(frozen=True, slots=True)
class Decrypted:
    xml: str
    key_index: int  # 0: current key, 1: previous key


class CallbackCrypto:
    def __init__(self, *, token: str, appid: str, aes_key: str = "", previous_aes_key: str = "") -> None:
        self.token = token
        self._appid = appid
        self._ciphers = [WeChatCrypto(token, key, appid) for key in (aes_key, previous_aes_key) if key]

    @property
    def safe_mode(self) -> bool:
        return bool(self._ciphers)

    def check_signature(self, signature: str, *, timestamp: str, nonce: str) -> None:
        if not signature_matches(sha1_signature(self.token, timestamp, nonce), signature):
            raise Rejected(403, "bad_signature")

    def decrypt(self, encrypted: str, *, msg_signature: str, timestamp: str, nonce: str) -> Decrypted:
        if not self._ciphers:
            raise Rejected(400, "safe_mode_not_configured")
        if not signature_matches(sha1_signature(self.token, timestamp, nonce, encrypted), msg_signature):
            raise Rejected(403, "bad_msg_signature")
        for index, cipher in enumerate(self._ciphers):
            try:
                xml = cipher.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
            except _DECRYPT_ERRORS:
                continue
            return Decrypted(xml=str(xml), key_index=index)
        raise Rejected(400, "undecryptable")

    def encrypt(self, xml: str, *, nonce: str, timestamp: str, key_index: int = 0) -> str:
        """The safe-mode reply envelope (Encrypt, MsgSignature, TimeStamp, Nonce)."""
        cipher = self._ciphers[min(key_index, len(self._ciphers) - 1)]
        return str(cipher.encrypt_message(xml, nonce, timestamp))
