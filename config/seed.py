"""Idempotent demo seed for embedded mode: Wenling-like projects, enterprises, people, sites, devices,
cameras and demo accounts. Running it twice changes nothing.

Demo passwords are random per installation and kept in ``<data_dir>/demo-accounts.json`` (never in the
repository), so ``make run`` can print them every time.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import secrets
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from config.demo_data import MILESTONES, demo_id_number, enterprise_rows, person_name, phone, project_row
from domain.accounts.models import Account
from domain.accounts.rules import Department, Role, hash_password
from domain.projects.models import Camera, Device, Enterprise, Milestone, Person, Project, Site
from domain.projects.rules import DeviceType, PersonRole, ProjectStage

DEMO_PROJECTS = 64
DEMO_ENTERPRISES = 24
DEMO_SEED = 20261124

DEMO_ACCOUNTS: tuple[tuple[str, Role, str], ...] = (
    ("admin", Role.ADMIN, ""),
    ("housing", Role.STAFF, Department.HOUSING),
    ("planning", Role.STAFF, Department.PLANNING),
    ("development", Role.STAFF, Department.DEVELOPMENT),
    ("environment", Role.STAFF, Department.ENVIRONMENT),
    ("fire", Role.STAFF, Department.FIRE),
    ("emergency", Role.STAFF, Department.EMERGENCY),
    ("enterprise", Role.ENTERPRISE, ""),
    ("sitemanager", Role.SITE_MANAGER, ""),
)


async def _enterprises(rng: random.Random) -> list[Enterprise]:
    enterprises = []
    for row in enterprise_rows(DEMO_ENTERPRISES, rng):
        enterprise, _ = await Enterprise.get_or_create(name=row["name"], defaults=row)
        enterprises.append(enterprise)
    return enterprises


async def _person(rng: random.Random, role: PersonRole, enterprise: Enterprise) -> Person:
    return await Person.create(
        name=person_name(rng),
        role=role,
        enterprise=enterprise,
        certificate_no=f"浙{rng.randrange(10**8):08d}",
        phone=phone(rng),
        id_number=demo_id_number(rng),
    )


async def _site_with_devices(project: Project, rng: random.Random) -> None:
    site = await Site.create(
        code=f"{project.code}-S1",
        project=project,
        name=f"{project.name}施工现场",
        lat=project.lat,
        lng=project.lng,
    )
    number = project.code[-4:]
    for device_type, interval in ((DeviceType.DUST, 60), (DeviceType.NOISE, 60), (DeviceType.CRANE, 30)):
        await Device.create(
            code=f"WL{device_type.value.upper()}{number}01",
            site=site,
            device_type=device_type,
            model={"dust": "YZ-HJ212-PM", "noise": "AWA6228+", "crane": "TC-BlackBox-7"}[device_type.value],
            interval_s=interval,
        )
    for camera_no in (1, 2):
        await Camera.create(
            code=f"CAM-{number}-{camera_no}",
            site=site,
            name=f"{'大门' if camera_no == 1 else '作业面'}摄像头",
            sample_fps=1.0,
            work_zone=[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]],
        )


async def _projects(rng: random.Random, enterprises: list[Enterprise]) -> None:
    developers, contractors, supervisors = enterprises[:8], enterprises[8:18], enterprises[18:]
    for index in range(DEMO_PROJECTS):
        row: dict[str, Any] = project_row(index, rng)
        if await Project.exists(code=row["code"]):
            continue
        contractor = rng.choice(contractors)
        project = await Project.create(
            **row,
            developer=rng.choice(developers),
            contractor=contractor,
            supervisor=rng.choice(supervisors),
            project_manager=await _person(rng, PersonRole.PROJECT_MANAGER, contractor),
            safety_officer=await _person(rng, PersonRole.SAFETY_OFFICER, contractor),
        )
        start = project.planned_start or dt.date(2026, 1, 1)
        end = project.planned_end or dt.date(2027, 1, 1)
        step = (end - start) / len(MILESTONES)
        for seq, name in enumerate(MILESTONES, start=1):
            planned = start + step * seq
            done = project.progress_pct >= seq * 20
            await Milestone.create(
                project=project,
                seq=seq,
                name=name,
                planned_date=planned,
                actual_date=planned if done else None,
            )
        if project.stage in (ProjectStage.CONSTRUCTION, ProjectStage.ACCEPTANCE):
            await _site_with_devices(project, rng)


def _passwords_file(data_dir: Path) -> Path:
    return data_dir / "demo-accounts.json"


async def _accounts(data_dir: Path, enterprise: Enterprise) -> list[tuple[str, str, str]]:
    path = _passwords_file(data_dir)
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    printed = []
    for username, role, department in DEMO_ACCOUNTS:
        password = passwords.setdefault(username, secrets.token_urlsafe(9))
        account = await Account.filter(username=username).first()
        if account is None:
            await Account.create(
                username=username,
                password_hash=hash_password(password),
                role=role,
                department=department,
                enterprise_uscc=enterprise.uscc if role is Role.ENTERPRISE else "",
                display_name=f"演示账号-{username}",
            )
        label = f"{role.value}{'/' + department if department else ''}"
        printed.append((username, password, label))
    path.write_text(json.dumps(passwords, indent=2))
    path.chmod(0o600)
    return printed


async def seed_demo_data(data_dir: Path) -> list[tuple[str, str, str]]:
    """Load the demo data set; returns (username, password, role) of the demo accounts."""
    rng = random.Random(DEMO_SEED)
    async with in_transaction():
        enterprises = await _enterprises(rng)
        await _projects(rng, enterprises)
    return await _accounts(data_dir, enterprises[0])
