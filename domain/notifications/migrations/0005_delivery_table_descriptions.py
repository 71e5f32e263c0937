from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('notifications', '0004_delivery_notice_throttle')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='DutyRosterEntry',
            options={'table': 'notification_duty_roster', 'app': 'notifications', 'pk_attr': 'id', 'table_description': 'One person on duty for a department (``default``: whoever covers a department without its own).'},
        ),
        ops.AlterModelOptions(
            name='Escalation',
            options={'table': 'notification_escalation', 'app': 'notifications', 'pk_attr': 'id', 'table_description': 'An escalation sent to a roster, watched until one message is delivered or its deadline passes.'},
        ),
        ops.AlterModelOptions(
            name='NoticeThrottle',
            options={'table': 'notification_throttle', 'app': 'notifications', 'unique_together': (('recipient_openid', 'site_code', 'rule'),), 'pk_attr': 'id', 'table_description': 'Per recipient, site and rule: when the last alarm notice went out and how many were held back.'},
        ),
    ]
