from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.notifications.rules import OutboxStatus
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='InteractionWindow',
            fields=[
                ('openid', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('last_interaction_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('custom_used', fields.IntField(default=0)),
            ],
            options={'table': 'notification_window', 'app': 'notifications', 'pk_attr': 'openid', 'table_description': 'One row per user who wrote to the official account: the customer-service message window.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('idempotency_key', fields.CharField(unique=True, max_length=200)),
                ('recipient_openid', fields.CharField(db_index=True, max_length=64)),
                ('category', fields.CharField(db_index=True, max_length=32)),
                ('text', fields.TextField(unique=False)),
                ('template_key', fields.CharField(default='', max_length=64)),
                ('template_data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('template_url', fields.CharField(default='', max_length=500)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, db_index=True, description='PENDING: pending\nSENDING: sending\nSENT: sent\nRECORDED: recorded\nFAILED: failed\nWAITING_FOR_INTERACTION: waiting_for_interaction\nDROPPED: dropped', enum_type=OutboxStatus, max_length=32)),
                ('channel', fields.CharField(default='', description='channel used or that would be used', max_length=16)),
                ('excluded_channels', fields.JSONField(default=list, description='channels that refused this message', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attempts', fields.IntField(default=0)),
                ('parts_sent', fields.IntField(default=0, description='custom-message chunks already delivered')),
                ('next_attempt_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, description='lease of the dispatcher sending it', auto_now=False, auto_now_add=False)),
                ('last_errcode', fields.IntField(null=True)),
                ('last_errmsg', fields.CharField(default='', max_length=300)),
                ('msgid', fields.CharField(default='', db_index=True, description='template msgid', max_length=32)),
                ('receipt_status', fields.CharField(default='', description='TEMPLATESENDJOBFINISH status', max_length=64)),
                ('receipt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_outbox', 'app': 'notifications', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubscribeCredit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(max_length=64)),
                ('template_key', fields.CharField(max_length=64)),
                ('app', fields.CharField(description='wxa or mp', max_length=8)),
                ('remaining', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_subscribe_credit', 'app': 'notifications', 'unique_together': (('openid', 'template_key', 'app'),), 'pk_attr': 'id', 'table_description': 'Accepted subscribe authorisations left, per user, template and app (each allows one message).'},
            bases=['Model'],
        ),
    ]
