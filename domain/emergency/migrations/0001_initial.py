from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.emergency.rules import IncidentStatus, IncidentType
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='EmergencyResource',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=100)),
                ('kind', fields.CharField(description='fire_station, hospital, traffic_police, rescue_team, equipment_yard', max_length=24)),
                ('department', fields.CharField(default='', max_length=32)),
                ('capabilities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('lat', fields.FloatField()),
                ('lng', fields.FloatField()),
                ('address', fields.CharField(default='', max_length=200)),
                ('contact_name', fields.CharField(default='', max_length=32)),
                ('contact_phone', fields.CharField(default='', max_length=32)),
                ('contact_openid', fields.CharField(default='', description='private', max_length=64)),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'emergency_resource', 'app': 'emergency', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Incident',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(null=True, unique=True, max_length=24)),
                ('incident_type', fields.CharEnumField(description='CRANE_COLLAPSE: crane_collapse\nEXCAVATION_COLLAPSE: excavation_collapse\nSCAFFOLD_COLLAPSE: scaffold_collapse\nFALL_FROM_HEIGHT: fall_from_height\nELECTRIC_SHOCK: electric_shock\nFIRE: fire\nPOISONING: poisoning\nOBJECT_STRIKE: object_strike\nOTHER: other', enum_type=IncidentType, max_length=24)),
                ('status', fields.CharEnumField(default=IncidentStatus.REPORTED, db_index=True, description='REPORTED: reported\nDISPATCHED: dispatched\nON_SCENE: on_scene\nCLOSED: closed', enum_type=IncidentStatus, max_length=16)),
                ('grade', fields.IntField(default=1)),
                ('title', fields.CharField(max_length=100)),
                ('description', fields.TextField(default='', unique=False)),
                ('site_code', fields.CharField(default='', db_index=True, max_length=24)),
                ('project_code', fields.CharField(default='', max_length=16)),
                ('address', fields.CharField(default='', max_length=200)),
                ('lat', fields.FloatField(null=True)),
                ('lng', fields.FloatField(null=True)),
                ('deaths', fields.IntField(default=0)),
                ('serious_injuries', fields.IntField(default=0)),
                ('minor_injuries', fields.IntField(default=0)),
                ('trapped', fields.IntField(default=0)),
                ('direct_loss_yuan', fields.BigIntField(default=0)),
                ('source', fields.CharField(description='bot, staff or alarm', max_length=16)),
                ('source_ref', fields.CharField(null=True, unique=True, description='idempotency of intake', max_length=64)),
                ('reporter_openid', fields.CharField(default='', description='private', max_length=64)),
                ('reported_levels', fields.JSONField(default=dict, description='level to reported time', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('summary', fields.TextField(default='', unique=False)),
                ('occurred_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'incident', 'app': 'emergency', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Dispatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('incident', fields.ForeignKeyField('emergency.Incident', source_field='incident_id', db_constraint=True, to_field='id', related_name='dispatches', on_delete=OnDelete.CASCADE)),
                ('target', fields.CharField(description='resource code or department', max_length=48)),
                ('target_kind', fields.CharField(description='resource or department', max_length=16)),
                ('outbox_id', fields.IntField(null=True)),
                ('dispatched_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('dispatched_by', fields.CharField(max_length=64)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'incident_dispatch', 'app': 'emergency', 'unique_together': (('incident', 'target'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IncidentEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('incident', fields.ForeignKeyField('emergency.Incident', source_field='incident_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('note', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'incident_event', 'app': 'emergency', 'pk_attr': 'id', 'table_description': 'The timeline: every action, for the after-action report.'},
            bases=['Model'],
        ),
    ]
