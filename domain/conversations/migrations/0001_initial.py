from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.conversations.rules import ConversationStatus
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='StaffConversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('status', fields.CharEnumField(default=ConversationStatus.WAITING, db_index=True, description='WAITING: waiting\nANSWERED: answered\nCLOSED: closed', enum_type=ConversationStatus, max_length=16)),
                ('question', fields.TextField(default='', unique=False)),
                ('answer', fields.TextField(default='', unique=False)),
                ('answered_by', fields.CharField(default='', max_length=64)),
                ('outbox_id', fields.IntField(null=True, description='the notifications outbox row carrying the answer')),
                ('answers_sent', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_conversation', 'app': 'conversations', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
