"""Upload once: materials stored by content hash, versioned per project and enterprise, reused by every
department and every later stage of the same project."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from domain.accounts.rules import Principal, Role
from domain.approvals.access import (
    EDITABLE,
    ApprovalsEnv,
    actor_of,
    add_timeline,
    enterprise_of,
    load_visible,
    stage_of,
)
from domain.approvals.checks import ApplicationRejected, StoredMaterial
from domain.approvals.inspection import FileFacts, inspect_file, upload_problems
from domain.approvals.models import Application, Material
from domain.errors import Conflict, NotFound, ValidationFailed

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "dwg": "image/vnd.dwg",
    "dxf": "image/vnd.dxf",
}


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: the material it is for, its name as sent, its bytes and sniffed kind.

    ``decode_problem`` is what the door's image check found (``corrupt_image: ...``, a decompression
    bomb as ``image_too_large: ...``); images are decoded by the adapter, which this package may not use.
    """

    key: str
    filename: str
    data: bytes
    sniffed_kind: str | None
    decode_problem: str = ""


# --- materials -------------------------------------------------------------------------------------------


async def current_materials(application: Application) -> dict[str, Material]:
    rows = await Material.filter(
        project_code=application.project_code, enterprise_uscc=application.enterprise_uscc, current=True
    )
    return {row.key: row for row in rows}


async def submitted_refs(application: Application) -> list[str]:
    """The media refs of the material versions this application was submitted with (what its
    reviewers decide on), in key order: the evidence log binds each by its SHA-256."""
    versions = application.material_versions or {}
    rows = await Material.filter(
        project_code=application.project_code,
        enterprise_uscc=application.enterprise_uscc,
        key__in=list(versions),
    )
    chosen = {row.key: row.ref for row in rows if versions.get(row.key) == row.version}
    return [chosen[key] for key in sorted(chosen)]


def stored(material: Material) -> StoredMaterial:
    return StoredMaterial(
        key=material.key,
        kind=material.kind,
        size=material.size,
        pages=material.pages,
        version=material.version,
    )


async def upload_materials(
    env: ApprovalsEnv, principal: Principal, code: str, *, uploads: Sequence[Upload], now: dt.datetime
) -> list[Material]:
    """Check every file first and refuse the whole batch with one itemised list; store only if all pass."""
    enterprise_of(principal)
    if not uploads:
        raise ValidationFailed("no file was uploaded", code="no_files")
    application = await load_visible(principal, code)
    _ensure_editable(application)
    checked = await _check_uploads(env, application, uploads=uploads)
    refs = [await env.media.put(u.data, content_type=CONTENT_TYPES[f.kind]) for u, f in checked]
    saved: list[Material] = []
    async with in_transaction() as conn:
        application = await load_visible(principal, code, conn=conn, lock=True)
        _ensure_editable(application)
        for (upload, facts), ref in zip(checked, refs, strict=True):
            saved.append(await _new_version(application, upload, facts, ref=ref, now=now, conn=conn))
        await add_timeline(
            application,
            actor=actor_of(principal),
            action="materials_uploaded",
            at=now,
            conn=conn,
            materials={m.key: m.version for m in saved},
        )
    return saved


def _ensure_editable(application: Application) -> None:
    if application.status not in EDITABLE:
        raise Conflict("materials can be changed only in a draft or a correction", code="not_editable")


async def _check_uploads(
    env: ApprovalsEnv, application: Application, *, uploads: Sequence[Upload]
) -> list[tuple[Upload, FileFacts]]:
    """Each file with its facts, or ApplicationRejected listing every problem of every file at once."""
    accepted = {spec.key: spec.types for item in stage_of(env, application).items for spec in item.materials}
    problems: list[str] = []
    checked: list[tuple[Upload, FileFacts]] = []
    for upload in uploads:
        if upload.key not in accepted:
            problems.append(f"{upload.key}: 本阶段没有这项材料 (unknown material)")
            continue
        facts = await inspect_file(
            upload.data, sniffed_kind=upload.sniffed_kind, max_bytes=env.max_file_bytes
        )
        label = f"{upload.key} ({upload.filename[:60]})"
        found = upload_problems(facts, accepted=accepted[upload.key], max_bytes=env.max_file_bytes)
        if not found and upload.decode_problem:
            found = [upload.decode_problem]
        problems.extend(f"{label}: {p}" for p in found)
        checked.append((upload, facts))
    if problems:
        raise ApplicationRejected(
            "some files were refused; nothing was saved", code="files_rejected", problems=problems
        )
    return checked


async def _new_version(
    application: Application,
    upload: Upload,
    facts: FileFacts,
    *,
    ref: str,
    now: dt.datetime,
    conn: BaseDBAsyncClient,
) -> Material:
    scope = {
        "project_code": application.project_code,
        "enterprise_uscc": application.enterprise_uscc,
        "key": upload.key,
    }
    current = await Material.filter(**scope, current=True).using_db(conn).first()
    if current is not None and current.ref == ref:
        return current  # the same bytes again: no new version
    latest = await Material.filter(**scope).using_db(conn).order_by("-version").first()
    await Material.filter(**scope, current=True).using_db(conn).update(current=False)
    return await Material.create(
        **scope,
        version=(latest.version + 1) if latest else 1,
        ref=ref,
        kind=facts.kind,
        size=facts.size,
        pages=facts.pages,
        filename=upload.filename[:200],
        current=True,
        uploaded_at=now,
        using_db=conn,
    )


async def open_material(
    env: ApprovalsEnv, principal: Principal, code: str, key: str, *, version: int | None = None
) -> tuple[Material, bytes]:
    """The file of one material: reviewers get the version that was submitted, the enterprise the latest."""
    application = await load_visible(principal, code)
    scope = Material.filter(
        project_code=application.project_code, enterprise_uscc=application.enterprise_uscc, key=key
    )
    if version is None and principal.role is not Role.ENTERPRISE:
        version = application.material_versions.get(key)
    material = await (scope.filter(version=version) if version else scope.filter(current=True)).first()
    if material is None:
        raise NotFound("no such material", code="material_not_found")
    return material, await env.media.get(material.ref)
