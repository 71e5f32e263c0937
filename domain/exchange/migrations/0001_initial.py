from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='FeedBatch',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('feed', fields.CharField(db_index=True, max_length=40)),
                ('department', fields.CharField(max_length=32)),
                ('batch_ref', fields.CharField(description="the sender's batch id (idempotency)", max_length=64)),
                ('actor', fields.CharField(description='key id or staff account', max_length=64)),
                ('channel', fields.CharField(description='api, csv or xlsx', max_length=8)),
                ('body_sha256', fields.CharField(max_length=64)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('total', fields.IntField(default=0)),
                ('created', fields.IntField(default=0)),
                ('updated', fields.IntField(default=0)),
                ('unchanged', fields.IntField(default=0)),
                ('rejected', fields.IntField(default=0)),
                ('credit_records', fields.IntField(default=0)),
                ('rejections', fields.JSONField(default=list, description='[{row, key, problems}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('completed_at', fields.DatetimeField(null=True, description='null while the rows are being applied', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'exchange_feed_batch', 'app': 'exchange', 'unique_together': (('department', 'feed', 'batch_ref'),), 'pk_attr': 'id', 'table_description': 'The audit of one delivery: who, when, through which channel, how many accepted or rejected.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FeedRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('feed', fields.CharField(max_length=40)),
                ('record_key', fields.CharField(max_length=200)),
                ('data', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('content_hash', fields.CharField(max_length=64)),
                ('first_batch_id', fields.IntField()),
                ('last_batch_id', fields.IntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'exchange_feed_record', 'app': 'exchange', 'unique_together': (('feed', 'record_key'),), 'pk_attr': 'id', 'table_description': 'The current version of one record of a feed, by its key fields.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Partner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_id', fields.CharField(unique=True, max_length=32)),
                ('department', fields.CharField(db_index=True, max_length=32)),
                ('secret', fields.CharField(description='HMAC secret, shown once when issued', max_length=64)),
                ('active', fields.BooleanField(default=True)),
                ('created_by', fields.CharField(default='', max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'exchange_partner', 'app': 'exchange', 'pk_attr': 'id', 'table_description': "A partner department's API key. The secret signs requests (HMAC), so it is kept, not hashed."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subscription_id', fields.IntField(db_index=True)),
                ('event_id', fields.CharField(max_length=80)),
                ('event_type', fields.CharField(max_length=48)),
                ('body', fields.TextField(description='the exact JSON that is signed and sent', unique=False)),
                ('status', fields.CharField(default='pending', db_index=True, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(default='', max_length=300)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'exchange_webhook_delivery', 'app': 'exchange', 'unique_together': (('subscription_id', 'event_id'),), 'pk_attr': 'id', 'table_description': 'The outbox of the city feed: one row per (subscription, event), retried with backoff.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookSubscription',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=64)),
                ('url', fields.CharField(max_length=300)),
                ('secret', fields.CharField(description='signs every delivery', max_length=64)),
                ('event_types', fields.JSONField(default=list, description='empty: every outbound event', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'exchange_webhook_subscription', 'app': 'exchange', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
