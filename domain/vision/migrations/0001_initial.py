"""The labelling loop's tables: the raw frame kept with each camera alarm, and the staff-labelled samples."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.vision.sample_rules import Verdict
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AlarmFrame',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evidence_ref', fields.CharField(unique=True, max_length=100)),
                ('frame_ref', fields.CharField(description='the raw frame (JPEG) in the media store', max_length=100)),
                ('camera_code', fields.CharField(max_length=40)),
                ('alarm_type', fields.CharField(max_length=48)),
                ('captured_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('detections', fields.JSONField(default=list, description='[{class, score, box: [x1, y1, x2, y2] px, offender}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'vision_alarm_frame', 'app': 'vision', 'pk_attr': 'id', 'table_description': 'The unmarked frame behind one camera-alarm evidence JPEG, and what the model saw on it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisionSample',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alarm_id', fields.IntField(unique=True)),
                ('camera_code', fields.CharField(max_length=40)),
                ('alarm_type', fields.CharField(max_length=48)),
                ('captured_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('frame_ref', fields.CharField(max_length=100)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('boxes', fields.JSONField(default=list, description='[{class, box: [x1, y1, x2, y2] px, role: positive|negative}]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('verdict', fields.CharEnumField(description='CONFIRMED: confirmed\nREJECTED: rejected', enum_type=Verdict, max_length=16)),
                ('corrected', fields.BooleanField(default=False, description='staff drew the boxes themselves')),
                ('note', fields.TextField(default='', unique=False)),
                ('labelled_by', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'vision_sample', 'app': 'vision', 'pk_attr': 'id', 'table_description': 'A labelled training sample: one per alarm (a second verdict corrects it in place).'},
            bases=['Model'],
        ),
    ]
