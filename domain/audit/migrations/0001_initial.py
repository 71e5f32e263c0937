from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(description='account subject, or cli:<user>', max_length=64)),
                ('entity', fields.CharField(description='enterprises, projects, sites, devices, cameras', max_length=24)),
                ('key', fields.CharField(db_index=True, description="the record's natural key", max_length=40)),
                ('action', fields.CharField(description='create, update, retire', max_length=16)),
                ('before', fields.JSONField(null=True)),
                ('after', fields.JSONField(null=True)),
                ('source', fields.CharField(default='', description='api, import:<file>, cli', max_length=64)),
            ],
            options={'table': 'audit_entry', 'app': 'audit', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
