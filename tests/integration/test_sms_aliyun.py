"""The Aliyun SMS adapter against a local stub of dysmsapi that checks the signature as Aliyun does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.sms.aliyun import AliyunSms, signature, string_to_sign
from domain.notifications.ports import DeliveryTransient, SmsRejected
from tests.sms_stub.server import AliyunSmsStub

PARAMS = {"site": "WL-2026-0031-S1", "alarm": "扬尘超标 & 未处置"}


@pytest.fixture
def stub() -> Iterator[AliyunSmsStub]:
    server = AliyunSmsStub()
    yield server
    server.close()


def adapter(stub: AliyunSmsStub, **overrides: str) -> AliyunSms:
    options = {"access_key_id": "LTAI-test", "access_key_secret": "test-secret", "sign_name": "温岭住建"}
    options |= overrides
    return AliyunSms(
        access_key_id=options["access_key_id"],
        access_key_secret=options["access_key_secret"],
        sign_name=options["sign_name"],
        endpoint=stub.base_url,
        timeout_s=2.0,
    )


def test_signature_matches_aliyuns_published_example() -> None:
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
    )
    assert signature("GET", params, secret="testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


async def test_a_signed_sms_goes_out(stub: AliyunSmsStub) -> None:
    biz_id = await adapter(stub).send(
        "13800000001", template_code="SMS_ESCALATION", params=PARAMS, out_id="esc-1"
    )
    assert biz_id.endswith("^0")
    assert stub.sent == [{"phone": "13800000001", "params": PARAMS, "out_id": "esc-1"}]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"access_key_secret": "wrong"}, "SignatureDoesNotMatch"),
        ({"access_key_id": "LTAI-unknown"}, "InvalidAccessKeyId.NotFound"),
        ({"sign_name": "别人的签名"}, "isv.SMS_SIGNATURE_ILLEGAL"),
    ],
)
async def test_provider_refusals_carry_aliyuns_codes(
    stub: AliyunSmsStub, overrides: dict[str, str], code: str
) -> None:
    with pytest.raises(SmsRejected) as refused:
        await adapter(stub, **overrides).send(
            "13800000001", template_code="SMS_ESCALATION", params=PARAMS, out_id="x"
        )
    assert refused.value.code == code and not refused.value.retryable
    assert stub.sent == []


async def test_bad_numbers_templates_and_stale_clocks_are_refused(stub: AliyunSmsStub) -> None:
    sms = adapter(stub)
    with pytest.raises(SmsRejected) as bad_phone:
        await sms.send("12345", template_code="SMS_ESCALATION", params=PARAMS, out_id="x")
    assert bad_phone.value.code == "isv.MOBILE_NUMBER_ILLEGAL"
    with pytest.raises(SmsRejected) as missing:
        await sms.send("13800000001", template_code="SMS_ESCALATION", params={"site": "x"}, out_id="x")
    assert missing.value.code == "isv.TEMPLATE_MISSING_PARAMETERS"
    stale = AliyunSms(
        access_key_id="LTAI-test",
        access_key_secret="test-secret",
        sign_name="温岭住建",
        endpoint=stub.base_url,
        timestamp=lambda: "2016-02-23T12:46:24Z",
    )
    with pytest.raises(SmsRejected) as expired:
        await stale.send("13800000001", template_code="SMS_ESCALATION", params=PARAMS, out_id="x")
    assert expired.value.code == "InvalidTimeStamp.Expired"


async def test_throttling_is_retryable_and_an_unreachable_provider_is_transient(stub: AliyunSmsStub) -> None:
    stub.inject("isv.BUSINESS_LIMIT_CONTROL")
    with pytest.raises(SmsRejected) as throttled:
        await adapter(stub).send("13800000001", template_code="SMS_ESCALATION", params=PARAMS, out_id="x")
    assert throttled.value.retryable
    unreachable = AliyunSms(
        access_key_id="k", access_key_secret="s", sign_name="n", endpoint="http://127.0.0.1:9", timeout_s=1
    )
    with pytest.raises(DeliveryTransient):
        await unreachable.send("13800000001", template_code="SMS_ESCALATION", params=PARAMS, out_id="x")
