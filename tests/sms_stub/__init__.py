"""A local stand-in for Aliyun's SMS API (dysmsapi ``SendSms``) for integration tests."""
