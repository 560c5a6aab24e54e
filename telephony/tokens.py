"""Access tokens for Twilio's Voice JavaScript SDK: the agents' desk answers calls to a
``client:<identity>`` endpoint in the browser.

An access token is a JWT signed with an API key's secret; its Voice grant with
``incoming_allow`` lets the browser receive calls to the identity
(twilio.com/docs/iam/access-tokens). It carries no account credential.
"""

from __future__ import annotations

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

# An hour (Twilio allows up to 24 hours, and advises the shortest that works): the
# desk fetches a new one before it runs out.
TOKEN_SECONDS = 3600


def voice_token(account_sid: str, api_key: str, api_secret: str, identity: str) -> str:
    token = AccessToken(account_sid, api_key, api_secret, identity=identity, ttl=TOKEN_SECONDS)
    token.add_grant(VoiceGrant(incoming_allow=True))
    return str(token.to_jwt())
