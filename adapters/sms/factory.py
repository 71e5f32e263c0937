"""Which SMS adapter the settings ask for (built once, by the bootstrap or the dispatcher)."""

from __future__ import annotations

from adapters.sms.aliyun import AliyunSms
from adapters.sms.recording import RecordingSms
from config.settings import Settings
from domain.notifications.ports import SmsSender


def sms_from_settings(settings: Settings) -> SmsSender:
    if settings.sms_provider == "aliyun":
        return AliyunSms(
            access_key_id=settings.sms_aliyun_access_key_id,
            access_key_secret=settings.sms_aliyun_access_key_secret.get_secret_value(),
            sign_name=settings.sms_sign_name,
            endpoint=settings.sms_aliyun_endpoint,
            timeout_s=settings.sms_timeout_s,
        )
    return RecordingSms()
