from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('projects', '0002_iot_device_password')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DeviceCredential',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device_code', fields.CharField(unique=True, max_length=40)),
                ('mqtt_username', fields.CharField(unique=True, max_length=64)),
                ('mqtt_password_hash', fields.CharField(description='Mosquitto $7$ PBKDF2-SHA512', max_length=200)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('issued_by', fields.CharField(max_length=64)),
            ],
            options={'table': 'device_credential', 'app': 'projects', 'pk_attr': 'id', 'table_description': "A device's MQTT login. Only the broker's hash is kept: the password is shown once when issued."},
            bases=['Model'],
        ),
    ]
