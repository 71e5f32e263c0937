from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.accounts.rules import Role
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(null=True, unique=True, max_length=64)),
                ('password_hash', fields.CharField(default='', max_length=200)),
                ('openid', fields.CharField(null=True, unique=True, description='mini-program openid', max_length=64)),
                ('role', fields.CharEnumField(description='CITIZEN: citizen\nENTERPRISE: enterprise\nSITE_MANAGER: site_manager\nSTAFF: staff\nADMIN: admin', enum_type=Role, max_length=16)),
                ('department', fields.CharField(default='', max_length=32)),
                ('enterprise_uscc', fields.CharField(default='', max_length=18)),
                ('display_name', fields.CharField(default='', max_length=64)),
                ('active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'account', 'app': 'accounts', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
