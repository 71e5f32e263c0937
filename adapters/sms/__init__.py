"""The SMS port's adapters: ``RecordingSms`` (embedded mode, tests) and ``AliyunSms`` (Aliyun SendSms
over its signed HTTP API, signature v1 HMAC-SHA1), and ``sms_from_settings`` choosing between them."""
