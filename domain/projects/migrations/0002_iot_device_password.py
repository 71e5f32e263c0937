from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('projects', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Device',
            name='hj212_password',
            field=fields.CharField(default='', description='HJ 212 PW, sealed as salt$sha256, empty when not set', max_length=100),
        ),
    ]
