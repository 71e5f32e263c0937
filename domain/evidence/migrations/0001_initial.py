from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='EvidenceCheckpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tree_size', fields.BigIntField(unique=True)),
                ('root', fields.BinaryField()),
                ('note', fields.TextField(unique=False)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evidence_checkpoint', 'app': 'evidence', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.CharField(unique=True, max_length=120)),
                ('kind', fields.CharField(max_length=24)),
                ('ref', fields.CharField(max_length=64)),
                ('action', fields.CharField(max_length=32)),
                ('data', fields.BinaryField()),
                ('leaf_index', fields.BigIntField(null=True, unique=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sequenced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evidence_entry', 'app': 'evidence', 'indexes': [Index(fields=['kind', 'ref'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceNode',
            fields=[
                ('id', fields.BigIntField(primary_key=True, unique=True, db_index=True, description='node_key(level, index)')),
                ('hash', fields.BinaryField()),
            ],
            options={'table': 'evidence_node', 'app': 'evidence', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceSeen',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('origin', fields.CharField(max_length=120)),
                ('tree_size', fields.BigIntField()),
                ('root', fields.BinaryField()),
                ('note', fields.TextField(unique=False)),
                ('verdict', fields.CharField(max_length=16)),
                ('seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evidence_seen', 'app': 'evidence', 'indexes': [Index(fields=['origin', 'tree_size'])], 'pk_attr': 'id', 'table_description': 'A checkpoint the monitor has checked, and what it concluded.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvidenceTree',
            fields=[
                ('id', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('size', fields.BigIntField(default=0)),
                ('root', fields.BinaryField()),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evidence_tree', 'app': 'evidence', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
