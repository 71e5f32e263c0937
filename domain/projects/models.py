"""Tortoise models of the projects context. Personal data (phones, ID numbers) never leaves through
the public projections in ``services``."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.projects.rules import DeviceType, PersonRole, ProjectKind, ProjectStage, ProjectStatus


class Enterprise(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128, unique=True)
    uscc = fields.CharField(max_length=18, unique=True, description="unified social credit code")
    legal_representative = fields.CharField(max_length=32, default="")
    contact_phone = fields.CharField(max_length=32, default="", description="private")
    address = fields.CharField(max_length=200, default="")
    qualification = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "enterprise"


class Person(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32)
    role = fields.CharEnumField(PersonRole, max_length=24)
    enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "projects.Enterprise", related_name="people", null=True, on_delete=fields.SET_NULL
    )
    certificate_no = fields.CharField(max_length=40, default="")
    phone = fields.CharField(max_length=32, default="", description="private")
    id_number = fields.CharField(max_length=18, default="", description="private")

    class Meta:
        table = "person"


class Project(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=128, db_index=True)
    kind = fields.CharEnumField(ProjectKind, max_length=24, db_index=True)
    stage = fields.CharEnumField(ProjectStage, max_length=24, db_index=True)
    status = fields.CharEnumField(ProjectStatus, max_length=16, default=ProjectStatus.ACTIVE)
    town = fields.CharField(max_length=16, db_index=True)
    street = fields.CharField(max_length=64, default="")
    road = fields.CharField(max_length=64, default="")
    address = fields.CharField(max_length=200)
    lat = fields.FloatField()
    lng = fields.FloatField()
    area_m2 = fields.FloatField(default=0)
    investment_wan = fields.FloatField(default=0, description="total investment, 10k CNY")
    planned_start = fields.DateField(null=True)
    planned_end = fields.DateField(null=True)
    actual_start = fields.DateField(null=True)
    actual_end = fields.DateField(null=True)
    progress_pct = fields.IntField(default=0)
    description = fields.TextField(default="")
    developer: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "projects.Enterprise", related_name="developed_projects", null=True, on_delete=fields.SET_NULL
    )
    contractor: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "projects.Enterprise", related_name="contracted_projects", null=True, on_delete=fields.SET_NULL
    )
    supervisor: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "projects.Enterprise", related_name="supervised_projects", null=True, on_delete=fields.SET_NULL
    )
    project_manager: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "projects.Person", related_name="managed_projects", null=True, on_delete=fields.SET_NULL
    )
    safety_officer: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "projects.Person", related_name="safety_projects", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "project"
        # The nearby search prefilters on a bounding box before computing exact distances.
        indexes = (("lat", "lng"),)


class Milestone(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "projects.Project", related_name="milestones", on_delete=fields.CASCADE
    )
    seq = fields.IntField()
    name = fields.CharField(max_length=64)
    planned_date = fields.DateField(null=True)
    actual_date = fields.DateField(null=True)

    class Meta:
        table = "milestone"
        unique_together = (("project", "seq"),)


class Site(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=24, unique=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "projects.Project", related_name="sites", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=128)
    lat = fields.FloatField()
    lng = fields.FloatField()
    active = fields.BooleanField(default=True)

    class Meta:
        table = "site"
        indexes = (("lat", "lng"),)


class Device(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(
        max_length=40, unique=True, description="device id (the HJ 212 MN for dust monitors)"
    )
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "projects.Site", related_name="devices", on_delete=fields.CASCADE
    )
    device_type = fields.CharEnumField(DeviceType, max_length=16)
    model = fields.CharField(max_length=64, default="")
    interval_s = fields.IntField(default=60)
    enabled = fields.BooleanField(default=True)
    hj212_password = fields.CharField(
        max_length=100, default="", description="HJ 212 PW, sealed as salt$sha256, empty when not set"
    )

    class Meta:
        table = "device"


class Camera(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=40, unique=True)
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "projects.Site", related_name="cameras", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    stream_url = fields.CharField(max_length=300, default="")
    sample_fps = fields.FloatField(default=1.0)
    work_zone: fields.JSONField[Any] = fields.JSONField(
        null=True, description="polygon [[x, y], ...] in frame fractions"
    )
    enabled = fields.BooleanField(default=True)
    score_threshold = fields.FloatField(
        null=True, description="alarm confidence floor for this camera, null for the detector's default"
    )

    class Meta:
        table = "camera"


class DeviceCredential(Model):
    """A device's MQTT login. Only the broker's hash is kept: the password is shown once when issued."""

    id = fields.IntField(primary_key=True)
    device_code = fields.CharField(max_length=40, unique=True)
    mqtt_username = fields.CharField(max_length=64, unique=True)
    mqtt_password_hash = fields.CharField(max_length=200, description="Mosquitto $7$ PBKDF2-SHA512")
    issued_at = fields.DatetimeField()
    issued_by = fields.CharField(max_length=64)

    class Meta:
        table = "device_credential"
