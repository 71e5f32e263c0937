"""The evidence log's keys and salt, loaded once from settings (the domain never reads them itself).

Embedded mode without ``EVIDENCE_SIGNING_KEY`` derives a development key from ``SECRET_KEY``: it is
stable across restarts of the same demo, and worthless elsewhere. Production refuses to start without
a key (``Settings.validate_for_production``), so a derived key can never sign a real log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from config.settings import ConfigurationError, Settings
from domain.errors import ValidationFailed
from domain.evidence.notes import Signer, parse_private_key

DEV_KEY_NAME = "wenling.local/evidence"


@dataclass(frozen=True, slots=True)
class EvidenceConfig:
    signer: Signer
    origin: str
    salt: bytes
    batch_size: int
    sequence_interval_s: float
    checkpoint_interval_s: float
    monitor_interval_s: float


def _signer(settings: Settings) -> Signer:
    text = settings.evidence_signing_key.get_secret_value()
    if text:
        try:
            return parse_private_key(text)
        except ValidationFailed as error:
            raise ConfigurationError(f"EVIDENCE_SIGNING_KEY is not usable: {error.message}") from error
    if settings.is_production:
        raise ConfigurationError("EVIDENCE_SIGNING_KEY is required in production")
    secret = settings.secret_key.get_secret_value().encode()
    return Signer(DEV_KEY_NAME, hashlib.sha256(b"wenling-evidence-dev-key\n" + secret).digest())


def _salt(settings: Settings) -> bytes:
    salt = settings.evidence_hash_salt.get_secret_value()
    if salt:
        return salt.encode()
    return hmac.new(
        settings.secret_key.get_secret_value().encode(), b"evidence-salt", hashlib.sha256
    ).digest()


def evidence_config(settings: Settings) -> EvidenceConfig:
    signer = _signer(settings)
    return EvidenceConfig(
        signer=signer,
        origin=settings.evidence_origin or signer.name,
        salt=_salt(settings),
        batch_size=settings.evidence_batch_size,
        sequence_interval_s=settings.evidence_sequence_interval_s,
        checkpoint_interval_s=settings.evidence_checkpoint_interval_s,
        monitor_interval_s=settings.evidence_monitor_interval_s,
    )
