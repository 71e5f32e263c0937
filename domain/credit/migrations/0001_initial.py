from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.credit.catalogue import Category
from domain.credit.rules import AppealStatus, RecordStatus, SubjectKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='CreditAudit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('record_id', fields.IntField(null=True, db_index=True)),
                ('appeal_id', fields.IntField(null=True)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'credit_audit', 'app': 'credit', 'pk_attr': 'id', 'table_description': 'Append-only: who did what to which record or appeal, and when.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_kind', fields.CharEnumField(description='ENTERPRISE: enterprise\nPERSON: person\nPROJECT: project', enum_type=SubjectKind, max_length=16)),
                ('subject_id', fields.CharField(max_length=40)),
                ('record_type', fields.CharField(max_length=40)),
                ('category', fields.CharEnumField(description='INSPECTION: inspection\nCOMPLAINT: complaint\nSAFETY_VIOLATION: safety_violation\nDUST_PENALTY: dust_penalty\nNOISE_PENALTY: noise_penalty\nCONTRACT_PERFORMANCE: contract_performance\nAWARD: award', enum_type=Category, max_length=24)),
                ('points', fields.IntField()),
                ('effective_on', fields.DateField()),
                ('expires_on', fields.DateField()),
                ('penalty_months', fields.IntField(default=0)),
                ('status', fields.CharEnumField(db_index=True, description='PENDING: pending\nEFFECTIVE: effective\nREJECTED: rejected\nREVOKED: revoked', enum_type=RecordStatus, max_length=16)),
                ('approved_on', fields.DateField(null=True)),
                ('revoked_on', fields.DateField(null=True)),
                ('project_code', fields.CharField(default='', max_length=16)),
                ('source_ref', fields.CharField(description='source document reference', max_length=120)),
                ('source_event_id', fields.CharField(null=True, unique=True, description='consumed domain event', max_length=64)),
                ('summary', fields.TextField(default='', description='internal note, never public', unique=False)),
                ('created_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('reviewed_by', fields.CharField(default='', max_length=64)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_record', 'app': 'credit', 'unique_together': (('subject_kind', 'subject_id', 'record_type', 'source_ref'),), 'indexes': [Index(fields=['subject_kind', 'subject_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditAppeal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('record', fields.ForeignKeyField('credit.CreditRecord', source_field='record_id', db_constraint=True, to_field='id', related_name='appeals', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(db_index=True, description='FILED: filed\nUPHELD: upheld\nDISMISSED: dismissed', enum_type=AppealStatus, max_length=16)),
                ('filed_by', fields.CharField(max_length=64)),
                ('reason', fields.TextField(unique=False)),
                ('attachments', fields.JSONField(default=list, description='media store references', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('filed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.CharField(default='', max_length=64)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'credit_appeal', 'app': 'credit', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditSubject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='ENTERPRISE: enterprise\nPERSON: person\nPROJECT: project', enum_type=SubjectKind, max_length=16)),
                ('subject_id', fields.CharField(description='USCC, person id or project code', max_length=40)),
                ('name', fields.CharField(db_index=True, max_length=128)),
                ('enterprise_uscc', fields.CharField(default='', description='employer or owner', max_length=18)),
                ('holder_account', fields.CharField(null=True, unique=True, description='account id bound by staff', max_length=40)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'credit_subject', 'app': 'credit', 'unique_together': (('kind', 'subject_id'),), 'pk_attr': 'id', 'table_description': 'Who a credit file belongs to, with the name the public lookup searches.'},
            bases=['Model'],
        ),
    ]
