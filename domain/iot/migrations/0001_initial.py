from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.iot.rules import FrameStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='RawFrame',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('mn', fields.CharField(max_length=40)),
                ('source', fields.CharField(description='tcp or mqtt', max_length=8)),
                ('status', fields.CharEnumField(description='STORED: stored\nQUARANTINED: quarantined', enum_type=FrameStatus, max_length=12)),
                ('reason', fields.CharField(default='', max_length=32)),
                ('qn', fields.CharField(default='', max_length=20)),
                ('frame', fields.TextField(unique=False)),
            ],
            options={'table': 'iot_raw_frame', 'app': 'iot', 'indexes': [Index(fields=['status', 'received_at']), Index(fields=['mn', 'received_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
