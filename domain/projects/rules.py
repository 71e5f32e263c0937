"""Pure rules of the projects context: codes, enums, validation and public projection."""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum

from domain.errors import ValidationFailed

PROJECT_CODE_RE = re.compile(r"^WL-(\d{4})-(\d{4})$")

# GB 32100-2015: 18 characters from this 31-letter alphabet (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class ProjectKind(StrEnum):
    RESIDENTIAL = "residential"
    MUNICIPAL = "municipal"
    TRANSPORT = "transport"
    WATER = "water"
    PUBLIC_BUILDING = "public_building"
    INDUSTRIAL = "industrial"


PROJECT_KIND_LABELS: dict[ProjectKind, str] = {
    ProjectKind.RESIDENTIAL: "住宅",
    ProjectKind.MUNICIPAL: "市政",
    ProjectKind.TRANSPORT: "交通",
    ProjectKind.WATER: "水利",
    ProjectKind.PUBLIC_BUILDING: "公建",
    ProjectKind.INDUSTRIAL: "工业",
}


class ProjectStage(StrEnum):
    """Lifecycle stage, in order: filing, approvals, works, acceptance, completed."""

    PLANNING = "planning"
    APPROVAL = "approval"
    CONSTRUCTION = "construction"
    ACCEPTANCE = "acceptance"
    COMPLETED = "completed"


PROJECT_STAGE_LABELS: dict[ProjectStage, str] = {
    ProjectStage.PLANNING: "立项规划",
    ProjectStage.APPROVAL: "审批中",
    ProjectStage.CONSTRUCTION: "在建",
    ProjectStage.ACCEPTANCE: "竣工验收",
    ProjectStage.COMPLETED: "已竣工",
}


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FINISHED = "finished"


class EnterpriseRole(StrEnum):
    DEVELOPER = "developer"
    CONTRACTOR = "contractor"
    SUPERVISOR = "supervisor"


class PersonRole(StrEnum):
    PROJECT_MANAGER = "project_manager"
    SAFETY_OFFICER = "safety_officer"
    CRANE_OPERATOR = "crane_operator"
    SITE_MANAGER = "site_manager"


class DeviceType(StrEnum):
    DUST = "dust"
    NOISE = "noise"
    CRANE = "crane"
    GENERIC = "generic"


def parse_kind(value: str) -> ProjectKind:
    """Accept the code (``residential``) or the Chinese label (``住宅``)."""
    for kind, label in PROJECT_KIND_LABELS.items():
        if value in (kind.value, label):
            return kind
    raise ValidationFailed(f"unknown project kind: {value[:40]}", code="invalid_kind")


def parse_stage(value: str) -> ProjectStage:
    for stage, label in PROJECT_STAGE_LABELS.items():
        if value in (stage.value, label):
            return stage
    raise ValidationFailed(f"unknown project stage: {value[:40]}", code="invalid_stage")


def normalise_project_code(value: str) -> str:
    code = value.strip().upper()
    if not PROJECT_CODE_RE.match(code):
        raise ValidationFailed("project code must look like WL-2026-0031", code="invalid_project_code")
    return code


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Unified social credit code checksum (GB 32100-2015)."""
    if not USCC_RE.match(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def validate_uscc(code: str) -> str:
    normalised = code.strip().upper()
    if not is_valid_uscc(normalised):
        raise ValidationFailed(
            "统一社会信用代码校验失败 (unified social credit code is invalid)", code="invalid_uscc"
        )
    return normalised


def mask_phone(phone: str) -> str:
    """138****5678: enough for a person to recognise their own number, useless to anyone else."""
    digits = phone.strip()
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "****" + digits[-4:]


def seal_device_password(password: str, *, salt: str) -> str:
    """HJ 212 sends PW in clear in every frame, so it is checked on the hot path: a salted SHA-256
    (not a slow KDF) keeps the stored form useless to a reader of the database and the check cheap."""
    digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
    return f"{salt}${digest}"


def device_password_matches(sealed: str, password: str) -> bool:
    """Constant-time comparison of ``password`` with a sealed one; False when none is set."""
    salt, _, _digest = sealed.partition("$")
    if not sealed or not salt:
        return False
    return hmac.compare_digest(seal_device_password(password, salt=salt), sealed)
