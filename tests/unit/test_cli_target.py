"""Where the CLI sends its requests: SigV4 signing for a deployed stack, the API URL from the stack's outputs,
and the local stack's state file by default."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ogosync_cli import target
from ogosync_cli.client import ApiError, OperatorClient, SigV4, is_loopback
from ogosync_cli.target import Target, stack_api_url

CREDENTIALS = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token")


def test_requests_to_a_deployed_api_are_signed_for_execute_api() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    client = OperatorClient(
        "https://abc123.execute-api.eu-north-1.amazonaws.com",
        auth=SigV4(CREDENTIALS, "eu-north-1"),
        transport=httpx.MockTransport(answer),
    )
    client.call("POST", "/integrations/acme/pause", body={"a": 1})

    (request,) = sent
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-north-1/execute-api/aws4_request" in authorization
    assert "SignedHeaders=" in authorization and "host" in authorization
    assert request.headers["X-Amz-Security-Token"] == "session-token"
    assert request.headers["X-Amz-Date"]


def test_the_api_url_comes_from_the_stacks_outputs() -> None:
    session = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="eu-north-1")
    cloudformation = session.client("cloudformation")
    url = "https://abc123.execute-api.eu-north-1.amazonaws.com"
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "ogosync",
                        "CreationTime": "2026-11-24T00:00:00Z",
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": [{"OutputKey": "OperatorApiUrl", "OutputValue": url}],
                    }
                ]
            },
            {"StackName": "ogosync"},
        )
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": "other", "CreationTime": "2026-11-24T00:00:00Z", "StackStatus": "CREATE_COMPLETE"}
                ]
            },
            {"StackName": "other"},
        )
        session.client = lambda *_args, **_kwargs: cloudformation  # type: ignore[method-assign]

        assert stack_api_url(session, "ogosync") == url
        with pytest.raises(ApiError) as not_ours:
            stack_api_url(session, "other")
    assert not_ours.value.code == "no_operator_api"


def test_the_local_stack_is_the_default_and_its_absence_is_explained(tmp_path: Path) -> None:
    target = Target(api_url=None, stack=None, profile=None, region=None, home=tmp_path)
    with pytest.raises(ApiError) as nothing:
        target.client()
    (tmp_path / "local.json").write_text(json.dumps({"pid": 1, "operator_url": "http://127.0.0.1:4000"}))

    assert "ogosync local up" in nothing.value.message
    assert target.client().base_url == "http://127.0.0.1:4000"


def test_only_loopback_urls_go_unsigned() -> None:
    assert is_loopback("http://127.0.0.1:4000") and is_loopback("http://localhost:1")
    assert not is_loopback("https://abc.execute-api.eu-north-1.amazonaws.com")


def test_an_unreachable_api_is_an_error_that_names_it() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = OperatorClient("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiError) as unreachable:
        client.call("GET", "/status")
    assert (unreachable.value.status, unreachable.value.code) == (0, "unreachable")
    assert "http://127.0.0.1:9" in unreachable.value.message


def test_a_stack_aws_does_not_know_is_one_line_saying_what_aws_said(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def refuse(session: boto3.Session, stack: str) -> str:
        error = {"Error": {"Code": "ValidationError", "Message": f"Stack with id {stack} does not exist"}}
        raise ClientError(error, "DescribeStacks")  # type: ignore[arg-type]

    monkeypatch.setattr(target, "stack_api_url", refuse)

    with pytest.raises(ApiError) as refused:
        Target(api_url=None, stack="ghost", profile=None, region="eu-north-1", home=tmp_path).client()

    assert (refused.value.code, refused.value.message) == (
        "aws_error",
        "AWS refused the request (ValidationError): Stack with id ghost does not exist",
    )
