from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.projects.rules import DeviceType, PersonRole, ProjectKind, ProjectStage, ProjectStatus
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Enterprise',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=128)),
                ('uscc', fields.CharField(unique=True, description='unified social credit code', max_length=18)),
                ('legal_representative', fields.CharField(default='', max_length=32)),
                ('contact_phone', fields.CharField(default='', description='private', max_length=32)),
                ('address', fields.CharField(default='', max_length=200)),
                ('qualification', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'enterprise', 'app': 'projects', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Person',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=32)),
                ('role', fields.CharEnumField(description='PROJECT_MANAGER: project_manager\nSAFETY_OFFICER: safety_officer\nCRANE_OPERATOR: crane_operator\nSITE_MANAGER: site_manager', enum_type=PersonRole, max_length=24)),
                ('enterprise', fields.ForeignKeyField('projects.Enterprise', source_field='enterprise_id', null=True, db_constraint=True, to_field='id', related_name='people', on_delete=OnDelete.SET_NULL)),
                ('certificate_no', fields.CharField(default='', max_length=40)),
                ('phone', fields.CharField(default='', description='private', max_length=32)),
                ('id_number', fields.CharField(default='', description='private', max_length=18)),
            ],
            options={'table': 'person', 'app': 'projects', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=16)),
                ('name', fields.CharField(db_index=True, max_length=128)),
                ('kind', fields.CharEnumField(db_index=True, description='RESIDENTIAL: residential\nMUNICIPAL: municipal\nTRANSPORT: transport\nWATER: water\nPUBLIC_BUILDING: public_building\nINDUSTRIAL: industrial', enum_type=ProjectKind, max_length=24)),
                ('stage', fields.CharEnumField(db_index=True, description='PLANNING: planning\nAPPROVAL: approval\nCONSTRUCTION: construction\nACCEPTANCE: acceptance\nCOMPLETED: completed', enum_type=ProjectStage, max_length=24)),
                ('status', fields.CharEnumField(default=ProjectStatus.ACTIVE, description='ACTIVE: active\nSUSPENDED: suspended\nFINISHED: finished', enum_type=ProjectStatus, max_length=16)),
                ('town', fields.CharField(db_index=True, max_length=16)),
                ('street', fields.CharField(default='', max_length=64)),
                ('road', fields.CharField(default='', max_length=64)),
                ('address', fields.CharField(max_length=200)),
                ('lat', fields.FloatField()),
                ('lng', fields.FloatField()),
                ('area_m2', fields.FloatField(default=0)),
                ('investment_wan', fields.FloatField(default=0, description='total investment, 10k CNY')),
                ('planned_start', fields.DateField(null=True)),
                ('planned_end', fields.DateField(null=True)),
                ('actual_start', fields.DateField(null=True)),
                ('actual_end', fields.DateField(null=True)),
                ('progress_pct', fields.IntField(default=0)),
                ('description', fields.TextField(default='', unique=False)),
                ('developer', fields.ForeignKeyField('projects.Enterprise', source_field='developer_id', null=True, db_constraint=True, to_field='id', related_name='developed_projects', on_delete=OnDelete.SET_NULL)),
                ('contractor', fields.ForeignKeyField('projects.Enterprise', source_field='contractor_id', null=True, db_constraint=True, to_field='id', related_name='contracted_projects', on_delete=OnDelete.SET_NULL)),
                ('supervisor', fields.ForeignKeyField('projects.Enterprise', source_field='supervisor_id', null=True, db_constraint=True, to_field='id', related_name='supervised_projects', on_delete=OnDelete.SET_NULL)),
                ('project_manager', fields.ForeignKeyField('projects.Person', source_field='project_manager_id', null=True, db_constraint=True, to_field='id', related_name='managed_projects', on_delete=OnDelete.SET_NULL)),
                ('safety_officer', fields.ForeignKeyField('projects.Person', source_field='safety_officer_id', null=True, db_constraint=True, to_field='id', related_name='safety_projects', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'project', 'app': 'projects', 'indexes': [Index(fields=['lat', 'lng'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Milestone',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('projects.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='milestones', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('name', fields.CharField(max_length=64)),
                ('planned_date', fields.DateField(null=True)),
                ('actual_date', fields.DateField(null=True)),
            ],
            options={'table': 'milestone', 'app': 'projects', 'unique_together': (('project', 'seq'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Site',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=24)),
                ('project', fields.ForeignKeyField('projects.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='sites', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=128)),
                ('lat', fields.FloatField()),
                ('lng', fields.FloatField()),
                ('active', fields.BooleanField(default=True)),
            ],
            options={'table': 'site', 'app': 'projects', 'indexes': [Index(fields=['lat', 'lng'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Camera',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('site', fields.ForeignKeyField('projects.Site', source_field='site_id', db_constraint=True, to_field='id', related_name='cameras', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=64)),
                ('stream_url', fields.CharField(default='', max_length=300)),
                ('sample_fps', fields.FloatField(default=1.0)),
                ('work_zone', fields.JSONField(null=True, description='polygon [[x, y], ...] in frame fractions', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('enabled', fields.BooleanField(default=True)),
            ],
            options={'table': 'camera', 'app': 'projects', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, description='device id (the HJ 212 MN for dust monitors)', max_length=40)),
                ('site', fields.ForeignKeyField('projects.Site', source_field='site_id', db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE)),
                ('device_type', fields.CharEnumField(description='DUST: dust\nNOISE: noise\nCRANE: crane\nGENERIC: generic', enum_type=DeviceType, max_length=16)),
                ('model', fields.CharField(default='', max_length=64)),
                ('interval_s', fields.IntField(default=60)),
                ('enabled', fields.BooleanField(default=True)),
            ],
            options={'table': 'device', 'app': 'projects', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
