"""Where a person is reached, as operators write it (import files, OVERFLOW_NUMBER): a
phone number, client:<identity> or sip:<user>@<host>, parsed once into what Twilio's
Calls API and <Dial> take, and anything else refused with a reason."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from telephony.endpoints import Client, Phone, Sip, parse_endpoint

IDENTITY = st.from_regex(r"[A-Za-z0-9_]{1,60}", fullmatch=True)
LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOST = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
USER = st.from_regex(r"\+?[A-Za-z0-9._\-]{1,30}", fullmatch=True)
PARAMS = st.lists(st.sampled_from([";transport=tls", ";transport=tcp", ";region=ie1"]), max_size=3)


@given(IDENTITY, st.sampled_from(["client:", "CLIENT:", "Client:"]))
def test_a_client_identity_is_kept_as_written_after_a_lower_case_prefix(
    identity: str, prefix: str
) -> None:
    endpoint = parse_endpoint(prefix + identity, "CN")
    assert endpoint == Client(identity)
    assert str(endpoint) == f"client:{identity}"


@given(USER, HOST, st.integers(min_value=1, max_value=65535) | st.none(), PARAMS)
def test_a_sip_uri_keeps_its_port_and_parameters_and_names_its_desk_phone_by_user_and_host(
    user: str, host: str, port: int | None, params: list[str]
) -> None:
    uri = f"sip:{user}@{host.upper()}{'' if port is None else f':{port}'}{''.join(params)}"
    endpoint = parse_endpoint(uri, "CN")
    assert isinstance(endpoint, Sip)
    assert str(endpoint) == uri  # what Twilio dials, as the operator wrote it
    assert endpoint.key == f"sip:{user}@{host}"  # the same desk however it is decorated


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mainland_mobile_is_the_same_number_with_or_without_its_country_code(
    national: str,
) -> None:
    assume(phonenumbers.is_valid_number(phonenumbers.parse(f"+86{national}")))
    written = [f"+86{national}", national, f"+86 {national[:3]} {national[3:7]} {national[7:]}"]
    assert {parse_endpoint(text, "CN") for text in written} == {Phone(f"+86{national}")}


@given(
    st.sampled_from(["", "client:", "sip:", "SIP:", "sips:", "+86", "tel:"]).flatmap(
        lambda prefix: st.text(max_size=80).map(lambda rest: prefix + rest)
    )
)
def test_anything_written_is_an_endpoint_that_reads_back_the_same_or_a_clear_refusal(
    text: str,
) -> None:
    try:
        endpoint = parse_endpoint(text, "CN")
    except ValueError as exc:
        assert str(exc)  # says what is wrong
        return
    assert parse_endpoint(str(endpoint), None) == endpoint  # stored, then read back
    assert len(str(endpoint)) <= 255  # fits agents.endpoint


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("client:li na", "letters, digits and underscores"),
        ("client:", "letters, digits and underscores"),
        ("client:李娜", "letters, digits and underscores"),
        ("sip:desk", "not a SIP URI"),
        ("sip:@pbx.example.com", "not a SIP URI"),
        ("sips:desk@pbx.example.com", "transport=tls"),
        ("sip:desk@pbx.example.com?Subject=hi", "x- headers only"),
        ("sip:desk@pbx.example.com?X-Agent", "name=value"),
        ("desk phones", "not a phone number"),
        ("+86123", "not a phone number"),
        ("sip:desk@" + "p" * 260 + ".com", "longer than 255"),
    ],
)
def test_what_twilio_could_not_dial_is_refused_saying_why(written: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_endpoint(written, "CN")


def test_without_a_region_a_phone_number_needs_its_country_code() -> None:
    assert parse_endpoint("+8613900000001", None) == Phone("+8613900000001")
    with pytest.raises(ValueError, match=r"\+E\.164"):
        parse_endpoint("13900000001", None)


def test_standard_and_custom_sip_headers_are_kept() -> None:
    uri = "sip:desk@pbx.example.com?X-Agent=A06&User-to-User=56a390f3d2b7310023a2"
    assert str(parse_endpoint(uri, None)) == uri
