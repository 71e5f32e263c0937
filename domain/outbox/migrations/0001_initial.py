from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.CharField(unique=True, description="the consumers' dedup key", max_length=120)),
                ('name', fields.CharField(description='e.g. ComplaintUpheld: the stream is events.<name>', max_length=64)),
                ('aggregate', fields.CharField(default='', description='what changed, e.g. complaint:TS2026..., ordered per value', max_length=120)),
                ('payload', fields.TextField(description="the event's JSON, exactly as it is published", unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, db_index=True, description='null until relayed', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'event_outbox', 'app': 'outbox', 'pk_attr': 'id', 'table_description': 'A domain event waiting for (or done with) the relay. ``id`` is the publication order.'},
            bases=['Model'],
        ),
    ]
