"""Per-camera confidence threshold (the vision helper's camera settings; zones use ``work_zone``)."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_registry_device_credentials")]

    operations = [
        ops.AddField(
            model_name="Camera",
            name="score_threshold",
            field=fields.FloatField(
                null=True, description="alarm confidence floor for this camera, null for the detector's default"
            ),
        ),
    ]
