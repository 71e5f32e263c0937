"""Daily partitions for the raw HJ 212 frames on PostgreSQL (a no-op on SQLite)."""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

from domain.iot.partitions import partition_table


async def _forward(_apps: Any, schema_editor: Any) -> None:
    await partition_table(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("iot", "0001_initial")]

    operations = [ops.RunPython(_forward, ops.RunPython.noop)]
