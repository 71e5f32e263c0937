from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='NightWorkPermit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('certificate_no', fields.CharField(unique=True, max_length=40)),
                ('site_code', fields.CharField(db_index=True, max_length=24)),
                ('valid_from', fields.DateField(description='first night (Asia/Shanghai date the night starts)')),
                ('valid_to', fields.DateField(description='last night, inclusive')),
                ('night_start', fields.CharField(default='22:00', description='HH:MM local', max_length=5)),
                ('night_end', fields.CharField(default='06:00', description='HH:MM local, next morning', max_length=5)),
                ('works', fields.CharField(default='', description='what may be done (e.g. concrete pouring)', max_length=200)),
                ('issued_by', fields.CharField(default='housing', max_length=32)),
                ('notice_posted', fields.BooleanField(default=False, description='public notice posted near the site')),
                ('notice_ref', fields.CharField(default='', description='photo of the posted notice', max_length=80)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='', max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'night_work_permit', 'app': 'permits', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
