"""C2SP ``tlog-checkpoint`` bodies and ``signed-note`` Ed25519 signatures (pure; no key loading).

A note is text ending in a newline, a blank line, then signature lines ``— <name> <base64(key id ‖
signature)>``. The key id is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key); verifier
keys are published as ``<name>+<hex key id>+<base64(0x01 ‖ public key)>`` and private keys use the
Go ``sumdb/note`` form ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.errors import ValidationFailed

ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "
PRIVATE_PREFIX = "PRIVATE+KEY+"


def _bad(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_note")


def check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise _bad(f"key name {name!r} is empty or holds '+' or spaces")


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class Verifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Signer:
    name: str
    seed: bytes

    @property
    def verifier(self) -> Verifier:
        public = self._private().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    @property
    def private_key_text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.seed).decode()
        return f"{PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return self._private().sign(message)

    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)


def _split_key(text: str, *, parts_expected: int) -> list[str]:
    # Only the first separators count: the base64 part may itself contain '+'.
    parts = text.strip().split("+", parts_expected - 1)
    if len(parts) != parts_expected:
        raise _bad("a key must have the form name+keyid+base64")
    return parts


def _decode_key_material(encoded: str, *, name: str) -> bytes:
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise _bad("the key's base64 part does not decode") from error
    if len(raw) != 33 or raw[:1] != ED25519:
        raise _bad("only Ed25519 keys (type 0x01, 32 bytes) are supported")
    check_key_name(name)
    return raw[1:]


def parse_vkey(text: str) -> Verifier:
    name, hex_id, encoded = _split_key(text, parts_expected=3)
    verifier = Verifier(name, _decode_key_material(encoded, name=name))
    if verifier.key_id.hex() != hex_id.lower():
        raise _bad("the verifier key's id does not match its name and key")
    return verifier


def parse_private_key(text: str) -> Signer:
    if not text.strip().startswith(PRIVATE_PREFIX):
        raise _bad("a private key starts with PRIVATE+KEY+")
    _private, _key, name, hex_id, encoded = _split_key(text, parts_expected=5)
    signer = Signer(name, _decode_key_material(encoded, name=name))
    if signer.verifier.key_id.hex() != hex_id.lower():
        raise _bad("the private key's id does not match its name and key")
    return signer


def sign_note(text: str, signer: Signer) -> str:
    if not text.endswith("\n") or "\n\n" in text:
        raise _bad("note text must end in one newline and hold no blank line")
    signature = signer.verifier.key_id + signer.sign(text.encode())
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if ``verifier`` signed it; otherwise ``ValidationFailed``."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise _bad("a signed note needs a blank line before its signatures")
    text += "\n"
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise _bad("malformed signature line")
        name, _space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise _bad("a signature does not decode") from error
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue  # someone else's signature (a witness, say): not ours to judge
        if verifier.verify(text.encode(), raw[4:]):
            return text
        raise _bad("the signature by the known key does not verify")
    raise _bad(f"the note is not signed by {verifier.name}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise _bad("a checkpoint has an origin, a size and a root hash line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise _bad("bad checkpoint origin or size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as error:
        raise _bad("the checkpoint root does not decode") from error
    if len(root) != 32:
        raise _bad("the checkpoint root is not a SHA-256 hash")
    return Checkpoint(origin, int(size_text), root)


def open_checkpoint(note: str, verifier: Verifier, *, origin: str | None = None) -> Checkpoint:
    checkpoint = parse_checkpoint(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise _bad(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
