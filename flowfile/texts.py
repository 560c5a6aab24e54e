"""What callers hear around the menus: verification prompts, answers, spoken words."""

from __future__ import annotations

from collections.abc import Mapping

from flowfile.vocabulary import Strict, Text

# The reason code kept on an account that a caller froze by phone; the flow's
# ``reasons`` must say it.
FROZEN_BY_CALLER = "frozen_by_caller"


class Prompts(Strict):
    language_menu: Text
    ask_number: Text  # the registered number and #, or # alone from that phone
    ask_pin: Text  # the PIN and #, or * for a code by SMS
    code_sent: Text  # after *: the same for every caller, a text went or not
    no_input: Text
    not_matched: Text  # a wrong number, PIN or code, and a locked customer, alike
    agent_offer: Text
    verified: Text
    not_an_option: Text
    didnt_hear: Text  # silence at a menu
    not_understood: Text  # words no option knows, or heard with too little confidence
    goodbye: Text  # silence after an answer: the caller has what they called for
    hold: Text
    # The SMS that carries a one-time code; must contain {code}.
    sms_code: Text


class AnswerTexts(Strict):
    """The words of the self-service answers; ``{names}`` are filled from the account."""

    needs_verification: Text
    account_active: Text
    account_frozen: Text  # {reason}
    no_funds_movement: Text
    funds_movement: Text  # {when} {kind} {amount} {status}
    expected_arrival: Text  # {when}
    overdue: Text  # {kind} {when}: pending past its expected arrival
    no_transaction: Text
    transaction: Text  # {when} {kind} {amount} {status}
    failure_reason: Text  # {reason}
    refund_recorded: Text  # {reference} {amount}
    confirm_refund: Text  # {kind} {amount} {when}, then 1 to confirm
    refund_reference: Text  # {reference} {amount}
    no_refund_ticket: Text
    refund_not_possible: Text
    confirm_freeze: Text  # what a freeze means, then 1 to confirm
    not_confirmed: Text  # anything but 1 after a read-back: nothing was done
    freeze_done: Text
    after_answer: Text
    offer_agent: Text


class Words(Strict):
    """How transaction kinds and statuses are spoken."""

    topup: Text
    withdrawal: Text
    payment: Text
    refund: Text
    pending: Text
    completed: Text
    failed: Text


def reason_code(reason: str, reasons: Mapping[str, Text]) -> str:
    """The code of a stored or imported reason: itself if it is a code, the code whose
    text it is in any language, else the free text as it is."""
    wanted = reason.strip()
    if wanted in reasons:
        return wanted
    for code, text in reasons.items():
        if any(words.strip().casefold() == wanted.casefold() for words in text.values()):
            return code
    return reason
