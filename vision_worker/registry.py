"""The model registry: versioned ONNX files with their metrics, status and shadow agreement.

One directory (``VISION_MODEL_REGISTRY_DIR``)::

    blobs/<sha256>.onnx        the model bytes, named by their content (two versions may share one)
    versions/<version>.json    the manifest: version, sha256, created_at, source, metrics, status,
                               and the shadow agreement recorded before a promotion

Every file is written whole or not at all (a temporary file in the same folder, fsync, ``os.replace``),
and every change takes an exclusive ``flock`` on ``.lock`` so two operators cannot interleave a
promotion. At most one version is ``current`` (the model the workers alarm on) and at most one is
``shadow`` (run beside it, never alarming). Workers read the registry when they start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CHUNK = 1 << 20


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"  # registered, not running
    SHADOW = "shadow"  # runs on live frames beside the current model, never alarms
    CURRENT = "current"  # the model the workers alarm on
    RETIRED = "retired"  # was current; kept for a rollback


# Which status a version may move to. Setting a shadow sends the previous shadow back to candidate;
# promoting retires the previous current model.
TRANSITIONS: Mapping[ModelStatus, frozenset[ModelStatus]] = {
    ModelStatus.CANDIDATE: frozenset({ModelStatus.SHADOW, ModelStatus.CURRENT}),
    ModelStatus.SHADOW: frozenset({ModelStatus.CANDIDATE, ModelStatus.CURRENT}),
    ModelStatus.CURRENT: frozenset({ModelStatus.RETIRED}),
    ModelStatus.RETIRED: frozenset({ModelStatus.SHADOW, ModelStatus.CURRENT}),
}


class RegistryError(Exception):
    code = "model_registry_error"


class UnknownVersion(RegistryError):
    code = "unknown_model_version"


class VersionExists(RegistryError):
    code = "model_version_exists"


class InvalidTransition(RegistryError):
    code = "invalid_model_transition"


class PromotionRefused(RegistryError):
    code = "promotion_refused"


@dataclass(frozen=True, slots=True)
class ModelEntry:
    version: str
    sha256: str
    created_at: str  # ISO-8601 UTC
    source: str  # the path it was registered from
    status: ModelStatus = ModelStatus.CANDIDATE
    metrics: Mapping[str, Any] = field(default_factory=dict)  # e.g. the ``evaluate`` report
    # The shadow figures (``ShadowTally.summary()``) last recorded, against the current version named
    # in them; a promotion needs them unless forced.
    agreement: Mapping[str, Any] | None = None
    status_changed_at: str | None = None

    @property
    def file_name(self) -> str:
        return f"{self.sha256}.onnx"

    def to_json(self) -> str:
        data = asdict(self)
        data["status"] = self.status.value
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelEntry:
        data = json.loads(text)
        known = set(cls.__dataclass_fields__)
        values = {key: value for key, value in data.items() if key in known}
        values["status"] = ModelStatus(values.get("status", ModelStatus.CANDIDATE))
        return cls(**values)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def write_atomically(path: Path, data: bytes) -> None:
    """The file is the old one or the new one, never half of either (same folder, fsync, replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            target.write(data)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ModelRegistry:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._versions = root / "versions"

    # --- reading --------------------------------------------------------------------------------
    def versions(self) -> list[ModelEntry]:
        if not self._versions.is_dir():
            return []
        entries = [ModelEntry.from_json(p.read_text("utf-8")) for p in self._versions.glob("*.json")]
        return sorted(entries, key=lambda entry: (entry.created_at, entry.version))

    def get(self, version: str) -> ModelEntry:
        path = self._manifest(version)
        if not path.exists():
            raise UnknownVersion(f"no model version {version!r} in {self.root}")
        return ModelEntry.from_json(path.read_text("utf-8"))

    def current(self) -> ModelEntry | None:
        return self._only(ModelStatus.CURRENT)

    def shadow(self) -> ModelEntry | None:
        return self._only(ModelStatus.SHADOW)

    def model_path(self, entry: ModelEntry) -> Path:
        return self._blobs / entry.file_name

    # --- changing -------------------------------------------------------------------------------
    def register(self, source: Path, *, version: str, metrics: Mapping[str, Any] | None = None) -> ModelEntry:
        if not VERSION_PATTERN.match(version):
            raise RegistryError(f"version {version!r}: letters, digits, '.', '_' or '-', at most 64")
        if not source.is_file():
            raise RegistryError(f"{source}: no such model file")
        with self._locked():
            if self._manifest(version).exists():
                raise VersionExists(f"model version {version!r} is already registered")
            sha256 = self._store_blob(source)
            entry = ModelEntry(
                version=version,
                sha256=sha256,
                created_at=_now(),
                source=str(source.resolve()),
                metrics=dict(metrics or {}),
            )
            self._save(entry)
            return entry

    def set_shadow(self, version: str) -> ModelEntry:
        """Make ``version`` the shadow; the previous shadow, if any, goes back to candidate."""
        with self._locked():
            entry = self.get(version)
            if entry.status is ModelStatus.SHADOW:
                return entry
            previous = self.shadow()
            shadowed = self._move(entry, ModelStatus.SHADOW)
            if previous is not None:
                self._save(self._move(previous, ModelStatus.CANDIDATE))
            self._save(shadowed)
            return shadowed

    def clear_shadow(self) -> ModelEntry | None:
        with self._locked():
            previous = self.shadow()
            if previous is not None:
                self._save(self._move(previous, ModelStatus.CANDIDATE))
            return previous

    def record_agreement(self, version: str, agreement: Mapping[str, Any]) -> ModelEntry:
        with self._locked():
            entry = replace(self.get(version), agreement=dict(agreement))
            self._save(entry)
            return entry

    def promote(self, version: str, *, force: bool = False) -> ModelEntry:
        """Make ``version`` current and retire the previous one. Refused, unless forced, while no
        shadow agreement against the current version has been recorded for it (the first model of
        an empty registry has nothing to be compared with and needs no agreement)."""
        with self._locked():
            entry = self.get(version)
            previous = self.current()
            if previous is not None and previous.version == version:
                return entry
            if previous is not None and not force:
                self._check_agreement(entry, against=previous.version)
            promoted = self._move(entry, ModelStatus.CURRENT)
            if previous is not None:
                self._save(self._move(previous, ModelStatus.RETIRED))
            self._save(promoted)
            return promoted

    # --- internals ------------------------------------------------------------------------------
    @staticmethod
    def _check_agreement(entry: ModelEntry, *, against: str) -> None:
        agreement = entry.agreement
        if agreement is None:
            raise PromotionRefused(
                f"no shadow agreement recorded for {entry.version}: run it as the shadow first "
                "(`models shadow`), read `models agreement`, or promote with --force"
            )
        if agreement.get("current") != against or not agreement.get("frames"):
            raise PromotionRefused(
                f"the agreement recorded for {entry.version} is not over live frames of the current "
                f"model {against}: run it as the shadow first, or promote with --force"
            )

    def _move(self, entry: ModelEntry, status: ModelStatus) -> ModelEntry:
        if status not in TRANSITIONS[entry.status]:
            raise InvalidTransition(f"{entry.version} is {entry.status}: it cannot become {status}")
        return replace(entry, status=status, status_changed_at=_now())

    def _only(self, status: ModelStatus) -> ModelEntry | None:
        found = [entry for entry in self.versions() if entry.status is status]
        if len(found) > 1:  # only a hand-edited registry gets here
            raise RegistryError(f"{len(found)} versions are {status}: {', '.join(e.version for e in found)}")
        return found[0] if found else None

    def _manifest(self, version: str) -> Path:
        if not VERSION_PATTERN.match(version):
            raise UnknownVersion(f"no model version {version!r} in {self.root}")
        return self._versions / f"{version}.json"

    def _save(self, entry: ModelEntry) -> None:
        write_atomically(self._manifest(entry.version), entry.to_json().encode("utf-8"))

    def _store_blob(self, source: Path) -> str:
        """Copy while hashing, then name the copy by the hash: what is stored is what was hashed."""
        self._blobs.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        handle, temporary = tempfile.mkstemp(dir=self._blobs, prefix=".incoming.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as target, source.open("rb") as origin:
                while chunk := origin.read(_CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
                target.flush()
                os.fsync(target.fileno())
            final = self._blobs / f"{digest.hexdigest()}.onnx"
            if final.exists():
                os.unlink(temporary)
            else:
                os.replace(temporary, final)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return digest.hexdigest()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock_file:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
