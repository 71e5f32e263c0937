"""Tortoise models of the staff queue. The openid is personal data: erased on unsubscribe."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from domain.conversations.rules import ConversationStatus


class StaffConversation(Model):
    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, db_index=True)
    status = fields.CharEnumField(
        ConversationStatus, max_length=16, default=ConversationStatus.WAITING, db_index=True
    )
    question = fields.TextField(default="")
    answer = fields.TextField(default="")
    answered_by = fields.CharField(max_length=64, default="")
    outbox_id = fields.IntField(null=True, description="the notifications outbox row carrying the answer")
    answers_sent = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_conversation"
