"""Sign-in to the console with an Amazon Cognito user pool (USER_PASSWORD_AUTH of an app client without a secret).

Roles: a member of the group "operators" is an operator of the warehouse; any other user must carry the custom
attribute `custom:merchant` naming the merchant whose integrations they see. The ID token's claims are read without
checking its signature: it comes straight from Cognito's own answer over TLS, never from the browser, and it is
used once, to fill the console's own signed session.
Cognito answers: https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from ogosync.console.deps import SignInRefused
from ogosync.console.session import Identity, NewPasswordNeeded

logger = Logger(service="ogosync", child=True)
OPERATORS_GROUP = "operators"
MERCHANT_ATTRIBUTE = "custom:merchant"
_REFUSALS = {
    "NotAuthorizedException",
    "UserNotFoundException",
    "UserNotConfirmedException",
    "PasswordResetRequiredException",
}


class CognitoSignIn:
    def __init__(self, client: Any, client_id: str, user_pool_id: str) -> None:
        self._client = client
        self._client_id = client_id
        self._user_pool_id = user_pool_id

    def sign_in(self, username: str, password: str) -> Identity | NewPasswordNeeded:
        try:
            answer = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _REFUSALS:
                raise SignInRefused("wrong user name or password") from None
            raise
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            return NewPasswordNeeded(username=username, challenge=answer["Session"])
        if "AuthenticationResult" not in answer:  # another challenge (MFA): not offered by the console
            raise SignInRefused(f"this user must first complete {answer.get('ChallengeName', 'a challenge')}")
        return identity_of(_claims(answer["AuthenticationResult"]["IdToken"]))

    def set_new_password(self, challenge: NewPasswordNeeded, new_password: str) -> Identity:
        try:
            answer = self._client.respond_to_auth_challenge(
                ClientId=self._client_id,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=challenge.challenge,
                ChallengeResponses={"USERNAME": challenge.username, "NEW_PASSWORD": new_password},
            )
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "InvalidPasswordException":
                raise SignInRefused(f"the new password is not accepted: {exc.response['Error']['Message']}") from None
            if code in _REFUSALS or code in ("CodeMismatchException", "ExpiredCodeException"):
                raise SignInRefused("the sign-in expired: sign in again with the temporary password") from None
            raise
        if "AuthenticationResult" not in answer:
            raise SignInRefused(f"this user must first complete {answer.get('ChallengeName', 'a challenge')}")
        return identity_of(_claims(answer["AuthenticationResult"]["IdToken"]))

    def sign_out(self, username: str) -> None:
        """AdminUserGlobalSignOut: Cognito revokes every refresh token it issued to the user (and their access
        tokens), so that nothing issued at this session's sign-in outlives it. The console keeps no Cognito token
        (the ID token is read once at sign-in), hence the admin call by user name rather than GlobalSignOut or
        RevokeToken, which need a token. It signs the user out of Cognito on every device: the console's other
        sessions of the user are its own and stay.
        https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUserGlobalSignOut.html
        """
        try:
            self._client.admin_user_global_sign_out(UserPoolId=self._user_pool_id, Username=username)
        except ClientError as exc:
            logger.warning(
                "Cognito did not sign the user out; the console's session is ended all the same",
                extra={"error": exc.response["Error"]["Code"]},
            )


def identity_of(claims: dict[str, Any]) -> Identity:
    username = str(claims.get("cognito:username", ""))
    operator = OPERATORS_GROUP in claims.get("cognito:groups", [])
    merchant = claims.get(MERCHANT_ATTRIBUTE)
    if not operator and not merchant:
        raise SignInRefused("this user has no role in ogosync: ask an operator to name its merchant")
    return Identity(username=username, operator=operator, merchant=None if operator else str(merchant))


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims
