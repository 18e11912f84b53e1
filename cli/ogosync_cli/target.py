"""Which operator API the CLI talks to: an explicit URL, a deployed stack (its OperatorApiUrl output, requests
signed with the AWS profile and region the user sets), or else the local stack that `ogosync local up` started."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from ogosync_cli.client import ApiError, OperatorClient, SigV4, is_loopback

STATE_FILE = "local.json"
URL_OUTPUT = "OperatorApiUrl"


@dataclass(frozen=True)
class Target:
    api_url: str | None
    stack: str | None
    profile: str | None
    region: str | None
    home: Path

    def client(self, transport: httpx.BaseTransport | None = None) -> OperatorClient:
        """The client for the target; AWS failures (no credentials, no region, no such stack) become one ApiError."""
        try:
            return self._client(transport)
        except (BotoCoreError, ClientError) as exc:
            raise ApiError(0, "aws_error", aws_problem(exc)) from None

    def _client(self, transport: httpx.BaseTransport | None) -> OperatorClient:
        if self.api_url:
            auth = None if is_loopback(self.api_url) else self._signer(self._session())
            return OperatorClient(self.api_url, auth=auth, transport=transport)
        if self.stack:
            session = self._session()
            return OperatorClient(stack_api_url(session, self.stack), auth=self._signer(session), transport=transport)
        local = read_local_state(self.home)
        if local is None:
            raise ApiError(
                0,
                "no_target",
                "no operator API to talk to: start one with `ogosync local up`, or name a deployed stack with "
                "--stack (and --profile/--region), or give --api-url",
            )
        return OperatorClient(str(local["operator_url"]), transport=transport)

    def _session(self) -> boto3.Session:
        return boto3.Session(profile_name=self.profile, region_name=self.region)

    @staticmethod
    def _signer(session: boto3.Session) -> SigV4:
        credentials = session.get_credentials()
        if credentials is None or session.region_name is None:
            raise ApiError(0, "no_aws_credentials", "AWS credentials and a region are needed: set --profile/--region")
        return SigV4(credentials.get_frozen_credentials(), session.region_name)


def aws_problem(exc: BotoCoreError | ClientError) -> str:
    """One line for a person: what is missing or what AWS said, and what to set."""
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found: set --profile (or AWS_PROFILE), or sign in with `aws sso login`"
    if isinstance(exc, NoRegionError):
        return "no AWS region: set --region (or AWS_REGION)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused the request ({error.get('Code', 'error')}): {error.get('Message', exc)}"
    return f"AWS: {exc}"


def stack_api_url(session: boto3.Session, stack: str) -> str:
    stacks = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stacks[0].get("Outputs", [])}
    if URL_OUTPUT not in outputs:
        raise ApiError(0, "no_operator_api", f"stack {stack} has no {URL_OUTPUT} output: is it an ogosync stack?")
    return outputs[URL_OUTPUT]


def read_local_state(home: Path) -> dict[str, Any] | None:
    path = home / STATE_FILE
    if not path.is_file():
        return None
    state: dict[str, Any] = json.loads(path.read_text())
    return state
