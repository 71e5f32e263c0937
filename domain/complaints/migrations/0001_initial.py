from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.complaints.rules import Action, Actor, State
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Complaint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket_no', fields.CharField(unique=True, max_length=16)),
                ('state', fields.CharEnumField(default=State.SUBMITTED, db_index=True, description='SUBMITTED: submitted\nDISPATCHED: dispatched\nACCEPTED: accepted\nIN_PROGRESS: in_progress\nREPLIED: replied\nFOLLOW_UP: follow_up\nCLOSED: closed\nREOPENED: reopened\nRETURNED: returned\nMERGED: merged\nNOT_ACCEPTED: not_accepted', enum_type=State, max_length=16)),
                ('nuisance_type', fields.CharField(db_index=True, max_length=32)),
                ('category', fields.CharField(max_length=32)),
                ('description', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(default='', max_length=200)),
                ('lat', fields.FloatField(null=True, description='WGS-84')),
                ('lng', fields.FloatField(null=True, description='WGS-84')),
                ('occurred_at', fields.DatetimeField(null=True, description='when the nuisance happened (normalised)', auto_now=False, auto_now_add=False)),
                ('channel', fields.CharField(default='miniprogram', description='wechat, miniprogram or open311', max_length=16)),
                ('reporter_openid', fields.CharField(default='', db_index=True, description='private', max_length=64)),
                ('reporter_phone', fields.CharField(default='', description='private', max_length=32)),
                ('reporter_name', fields.CharField(default='', description='private', max_length=32)),
                ('site_code', fields.CharField(default='', db_index=True, max_length=24)),
                ('project_code', fields.CharField(default='', max_length=16)),
                ('contractor_uscc', fields.CharField(default='', max_length=18)),
                ('town', fields.CharField(default='', db_index=True, max_length=16)),
                ('department', fields.CharField(default='', db_index=True, max_length=32)),
                ('assignee_id', fields.CharField(default='', description='handling staff account id', max_length=32)),
                ('photos', fields.JSONField(default=list, description='media references', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('evidence', fields.JSONField(default=dict, description='night-work permit and monitor readings', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('merged_into_id', fields.IntField(null=True)),
                ('merge_candidates', fields.JSONField(default=list, description='ids of likely duplicates', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('upheld', fields.BooleanField(default=False)),
                ('rating', fields.CharField(default='', max_length=24)),
                ('last_reply', fields.TextField(default='', unique=False)),
                ('reply_count', fields.IntField(default=0)),
                ('sla_started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reminders_sent', fields.JSONField(default=list, description='SLA reminder keys already sent', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'complaint', 'app': 'complaints', 'indexes': [Index(fields=['site_code', 'nuisance_type', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ComplaintEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('complaint', fields.ForeignKeyField('complaints.Complaint', source_field='complaint_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharEnumField(description='SUBMIT: submit\nDISPATCH: dispatch\nREASSIGN: reassign\nRETURN: return\nACCEPT: accept\nSTART: start\nNOTE: note\nREPLY: reply\nASK_RATING: ask_rating\nRATE_SATISFIED: rate_satisfied\nRATE_DISSATISFIED: rate_dissatisfied\nREOPEN: reopen\nCLOSE: close\nREFUSE: refuse\nMERGE: merge\nUPHOLD: uphold\nADD_PHOTO: add_photo', enum_type=Action, max_length=24)),
                ('from_state', fields.CharEnumField(description='SUBMITTED: submitted\nDISPATCHED: dispatched\nACCEPTED: accepted\nIN_PROGRESS: in_progress\nREPLIED: replied\nFOLLOW_UP: follow_up\nCLOSED: closed\nREOPENED: reopened\nRETURNED: returned\nMERGED: merged\nNOT_ACCEPTED: not_accepted', enum_type=State, max_length=16)),
                ('to_state', fields.CharEnumField(description='SUBMITTED: submitted\nDISPATCHED: dispatched\nACCEPTED: accepted\nIN_PROGRESS: in_progress\nREPLIED: replied\nFOLLOW_UP: follow_up\nCLOSED: closed\nREOPENED: reopened\nRETURNED: returned\nMERGED: merged\nNOT_ACCEPTED: not_accepted', enum_type=State, max_length=16)),
                ('actor', fields.CharEnumField(description='CITIZEN: citizen\nSTAFF: staff\nSYSTEM: system', enum_type=Actor, max_length=8)),
                ('actor_id', fields.CharField(default='', description='account id or system (never an openid)', max_length=64)),
                ('note', fields.TextField(default='', unique=False)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'complaint_event', 'app': 'complaints', 'pk_attr': 'id', 'table_description': 'The timeline: every transition and note, with who, when and why.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketCounter',
            fields=[
                ('day', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=8)),
                ('last_seq', fields.IntField(default=0)),
            ],
            options={'table': 'complaint_ticket_counter', 'app': 'complaints', 'pk_attr': 'day', 'table_description': 'The last sequence number used per Asia/Shanghai day, bumped atomically by an upsert.'},
            bases=['Model'],
        ),
    ]
