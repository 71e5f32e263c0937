from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.alerts.rules import AlarmState, Severity
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Alarm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(description='device code, camera code or site code', max_length=64)),
                ('alarm_type', fields.CharField(max_length=48)),
                ('active_key', fields.CharField(null=True, unique=True, max_length=120)),
                ('state', fields.CharEnumField(default=AlarmState.RAISED, description='RAISED: raised\nACKNOWLEDGED: acknowledged\nCLEARED: cleared\nRESOLVED: resolved', enum_type=AlarmState, max_length=16)),
                ('severity', fields.CharEnumField(description='INFO: info\nWARNING: warning\nMAJOR: major\nCRITICAL: critical', enum_type=Severity, max_length=16)),
                ('site_code', fields.CharField(db_index=True, max_length=24)),
                ('project_code', fields.CharField(default='', db_index=True, max_length=16)),
                ('value', fields.FloatField(null=True)),
                ('limit', fields.FloatField(null=True)),
                ('peak_value', fields.FloatField(null=True)),
                ('message', fields.CharField(default='', max_length=300)),
                ('evidence_ref', fields.CharField(null=True, max_length=100)),
                ('update_count', fields.IntField(default=0)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.CharField(default='', max_length=64)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution_note', fields.TextField(default='', unique=False)),
                ('resolution_photo_ref', fields.CharField(default='', max_length=100)),
                ('escalated_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notified_update_count', fields.IntField(default=0)),
                ('confirmed_violation_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'alert_alarm', 'app': 'alerts', 'indexes': [Index(fields=['site_code', 'raised_at']), Index(fields=['state', 'severity', 'raised_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlarmEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alarm_id', fields.IntField(db_index=True)),
                ('kind', fields.CharField(max_length=24)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(default='', max_length=64)),
                ('value', fields.FloatField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('photo_ref', fields.CharField(default='', max_length=100)),
            ],
            options={'table': 'alert_event', 'app': 'alerts', 'pk_attr': 'id', 'table_description': 'The timeline: every transition and update, append-only.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BindingCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('project_code', fields.CharField(max_length=16)),
                ('site_code', fields.CharField(max_length=24)),
                ('issued_by', fields.CharField(max_length=64)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_by', fields.CharField(default='', max_length=64)),
            ],
            options={'table': 'alert_binding_code', 'app': 'alerts', 'pk_attr': 'id', 'table_description': 'A one-time code issued by staff or the enterprise admin, only its hash is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MinuteAggregate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('site_code', fields.CharField(max_length=24)),
                ('device_code', fields.CharField(max_length=40)),
                ('metric', fields.CharField(max_length=24)),
                ('minute', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('count', fields.IntField()),
                ('total', fields.FloatField()),
                ('minimum', fields.FloatField()),
                ('maximum', fields.FloatField()),
                ('valid_count', fields.IntField()),
                ('valid_total', fields.FloatField()),
            ],
            options={'table': 'alert_minute_aggregate', 'app': 'alerts', 'indexes': [Index(fields=['device_code', 'minute']), Index(fields=['site_code', 'minute'])], 'pk_attr': 'id', 'table_description': 'Per device, metric and minute. A minute may have several partial rows (one per bridge flush,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SiteBinding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('site_code', fields.CharField(db_index=True, max_length=24)),
                ('project_code', fields.CharField(default='', max_length=16)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_site_binding', 'app': 'alerts', 'unique_together': (('site_code', 'openid'),), 'pk_attr': 'id', 'table_description': 'A site manager (by openid) bound to a site: they receive its alarms.'},
            bases=['Model'],
        ),
    ]
