from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.approvals.rules import ApplicationStatus, TaskStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Application',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=16)),
                ('project_code', fields.CharField(db_index=True, max_length=16)),
                ('enterprise_uscc', fields.CharField(db_index=True, max_length=18)),
                ('stage', fields.CharField(max_length=40)),
                ('status', fields.CharEnumField(default=ApplicationStatus.DRAFT, db_index=True, description='DRAFT: draft\nSUBMITTED: submitted\nUNDER_REVIEW: under_review\nCORRECTION_REQUIRED: correction_required\nAPPROVED: approved\nREJECTED: rejected', enum_type=ApplicationStatus, max_length=24)),
                ('fields_data', fields.JSONField(default=dict, description='form fields', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('material_versions', fields.JSONField(default=dict, description='material key to the version submitted (what reviewers open)', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('notify_openid', fields.CharField(default='', description='applicant openid if bound', max_length=64)),
                ('round', fields.IntField(default=0, description='submission round, +1 per resubmission')),
                ('first_submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('clock_started_at', fields.DatetimeField(null=True, description='restarts on resubmission', auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paused_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('pause_reason', fields.CharField(default='', max_length=200)),
                ('paused_days', fields.IntField(default=0, description='working days paused since the clock started')),
                ('total_paused_days', fields.IntField(default=0)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('rejection_reason', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'approval_application', 'app': 'approvals', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApplicationSequence',
            fields=[
                ('year', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'approval_sequence', 'app': 'approvals', 'pk_attr': 'year', 'table_description': 'The last sequence number handed out per year: ``SP2026-0412`` is year 2026, number 412.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClockPause',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('approvals.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='pauses', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=200)),
                ('paused_by', fields.CharField(max_length=64)),
                ('paused_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resumed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('working_days', fields.IntField(default=0)),
            ],
            options={'table': 'approval_clock_pause', 'app': 'approvals', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CorrectionNotice',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('approvals.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('round', fields.IntField()),
                ('content', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answer', fields.CharField(default='', max_length=1000)),
            ],
            options={'table': 'approval_correction_notice', 'app': 'approvals', 'unique_together': (('application', 'round'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Material',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project_code', fields.CharField(max_length=16)),
                ('enterprise_uscc', fields.CharField(max_length=18)),
                ('key', fields.CharField(max_length=48)),
                ('version', fields.IntField()),
                ('ref', fields.CharField(description='media store reference (sha256.ext)', max_length=80)),
                ('kind', fields.CharField(max_length=8)),
                ('size', fields.IntField()),
                ('pages', fields.IntField(null=True)),
                ('filename', fields.CharField(default='', max_length=200)),
                ('current', fields.BooleanField(default=True)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'approval_material', 'app': 'approvals', 'unique_together': (('project_code', 'enterprise_uscc', 'key', 'version'),), 'indexes': [Index(fields=['project_code', 'enterprise_uscc', 'key', 'current'])], 'pk_attr': 'id', 'table_description': 'One version of one material of a project, stored by content hash in the media store.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReviewTask',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('approvals.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('department', fields.CharField(db_index=True, max_length=32)),
                ('is_lead', fields.BooleanField(default=False)),
                ('status', fields.CharEnumField(default=TaskStatus.IN_REVIEW, db_index=True, description='IN_REVIEW: in_review\nCORRECTION_REQUESTED: correction_requested\nAPPROVED: approved\nREJECTED: rejected', enum_type=TaskStatus, max_length=24)),
                ('limit_days', fields.IntField()),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('paused_days', fields.IntField(default=0)),
                ('comment', fields.CharField(default='', max_length=1000)),
                ('correction_materials', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('decided_by', fields.CharField(default='', max_length=64)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'approval_review_task', 'app': 'approvals', 'unique_together': (('application', 'department'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TimelineEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('application', fields.ForeignKeyField('approvals.Application', source_field='application_id', db_constraint=True, to_field='id', related_name='timeline', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=40)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'approval_timeline', 'app': 'approvals', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
