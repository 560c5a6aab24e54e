"""``import-data``: customers, their accounts and transactions, and agents from JSON (SPEC §7).

The whole file is checked before anything is written, and a bad record is
named by its position and field (``customers[2].transactions[0].amount``).
Importing again updates customers, transactions and agents by id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from calls.reach import reach_key
from flowfile.texts import reason_code
from flowfile.vocabulary import Text
from models import Account, Agent, Customer, Operator, Transaction
from models.base import utcnow
from models.customers import CustomerStatus, TransactionKind, TransactionStatus
from models.operators import OperatorRole
from telephony.endpoints import parse_endpoint
from telephony.numbers import to_e164
from validation import problems
from verification.passwords import MIN_LENGTH, hash_password, password_matches
from verification.secrets import AGENT_PIN, CUSTOMER_PIN, keyed_hash

# Enough to fix a file in a few rounds without burying the first problems.
MAX_PROBLEMS = 20


class ImportFailed(Exception):
    """The data cannot be imported; the message names every bad place, one per line."""


def _e164(value: str, info: ValidationInfo) -> str:
    context: dict[str, str] = info.context or {}
    phone = to_e164(value, context["region"])
    if phone is None:
        raise ValueError(f"{value!r} is not a valid phone number")
    return phone


def _endpoint(value: str, info: ValidationInfo) -> str:
    context: dict[str, str] = info.context or {}
    try:
        return str(parse_endpoint(value, context["region"]))
    except ValueError as exc:
        raise ValueError(f"{value!r}: {exc}") from None


Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Phone = Annotated[str, AfterValidator(_e164)]
# Where an agent is rung (telephony.endpoints), kept in the form that module writes.
EndpointText = Annotated[str, AfterValidator(_endpoint)]
# [0-9], not \d: a keypad cannot type the other Unicode digits.
Pin = Annotated[str, StringConstraints(pattern=r"^[0-9]{4,6}$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Language = Literal["zh", "en"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransactionIn(Record):
    id: Id
    kind: TransactionKind
    amount: Money
    status: TransactionStatus
    channel: Annotated[str, StringConstraints(max_length=64)] | None = None
    created_at: AwareDatetime
    expected_at: AwareDatetime | None = None
    failure_reason: str | None = None


class CustomerIn(Record):
    id: Id
    name: Name
    phone: Phone
    language: Language
    # Required although it may be null: a file that forgets it must not wipe PINs.
    pin: Pin | None
    status: CustomerStatus
    freeze_reason: str | None = None
    balance: Money
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    transactions: list[TransactionIn] = []


class AgentIn(Record):
    id: Id
    name: Name
    phone: Phone  # who calls the agent line
    # Where Hotline rings the agent: a phone number, client:<identity> or sip:<uri>;
    # omitted or null, ``phone``.
    endpoint: EndpointText | None = None
    pin: Pin
    skills: Annotated[list[Id], Field(min_length=1)]
    languages: Annotated[list[Language], Field(min_length=1)]
    # The desk's sign-in, stored only as its hash; left out, the one set stays.
    desk_password: Annotated[str, Field(min_length=MIN_LENGTH, max_length=1024)] | None = None


class OperatorIn(Record):
    """Someone who signs in to /admin (admin.auth); their password is stored only as
    its hash, and left out, the one set stays (a new operator needs one)."""

    name: Id
    role: OperatorRole
    password: Annotated[str, Field(min_length=MIN_LENGTH, max_length=1024)] | None = None


class ImportFile(Record):
    customers: list[CustomerIn] = []
    agents: list[AgentIn] = []
    operators: list[OperatorIn] = []


@dataclass
class Counts:
    created: int = 0
    updated: int = 0

    def add(self, *, new: bool) -> None:
        if new:
            self.created += 1
        else:
            self.updated += 1


@dataclass
class ImportSummary:
    customers: Counts = field(default_factory=Counts)
    transactions: Counts = field(default_factory=Counts)
    agents: Counts = field(default_factory=Counts)
    operators: Counts = field(default_factory=Counts)

    def __str__(self) -> str:
        kinds = [
            ("customers", self.customers),
            ("transactions", self.transactions),
            ("agents", self.agents),
        ]
        if self.operators.created or self.operators.updated:
            kinds.append(("operators", self.operators))
        return ", ".join(
            f"{counts.created + counts.updated} {kind}"
            f" ({counts.created} new, {counts.updated} updated)"
            for kind, counts in kinds
        )


def load_file(path: Path | str) -> dict[str, Any]:
    """The JSON object in ``path``; every error names the file (and the line of bad JSON)."""
    path = Path(path)
    try:
        # utf-8-sig: editors on Windows like to start the file with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ImportFailed(f"{path}: not UTF-8 text") from None
    try:
        # Decimal, not float: a bare 1280.10 in the file must stay exactly that.
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ImportFailed(
            f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise ImportFailed(f"{path}: expected a JSON object with customers, agents, operators")
    return data


def import_data(
    session: Session,
    payload: dict[str, Any],
    *,
    key: bytes,
    region: str,
    reasons: Mapping[str, Text] | None = None,
    now: datetime | None = None,
) -> ImportSummary:
    """Check the whole payload, then upsert it in the session's transaction and flush.

    A freeze or failure reason that is one of the flow's ``reasons`` (its code, or its
    text in any language) is kept as that code, so callers hear it in their language;
    any other reason is kept as the free text it is.

    The caller commits, or rolls back on an exception. On ``ImportFailed``
    nothing has been added to the session. Transactions of a customer that a
    later file leaves out are kept as they are: a file is a batch of records
    to add or correct, not the whole ledger, and refunds or tickets may refer
    to older transactions.
    """
    data = _validate(payload, region)
    # Against the database only once the file agrees with itself, to avoid echoes.
    problems = (
        _duplicates(data) or _taken_elsewhere(session, data) or _new_without_password(session, data)
    )
    if problems:
        raise ImportFailed(_listing(problems))
    summary = ImportSummary()
    for customer in data.customers:
        _upsert_customer(session, customer, key, summary, reasons or {})
    for agent in data.agents:
        _upsert_agent(session, agent, key, summary)
    for operator in data.operators:
        _upsert_operator(session, operator, now or utcnow(), summary)
    session.flush()
    return summary


def _validate(payload: dict[str, Any], region: str) -> ImportFile:
    try:
        return ImportFile.model_validate(payload, context={"region": region})
    except ValidationError as exc:
        # ``from None``: a ValidationError's text repeats the inputs, PINs included.
        raise ImportFailed(_listing(problems(exc, top="file"))) from None


def _listing(problems: list[str]) -> str:
    shown = problems[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
    return "\n".join(shown)


def _duplicates(data: ImportFile) -> list[str]:
    """Records that repeat an id or phone number of an earlier record of the file."""
    problems = []
    for kind, records in (("customers", data.customers), ("agents", data.agents)):
        for name in ("id", "phone"):
            first: dict[str, int] = {}
            for index, record in enumerate(records):
                value = getattr(record, name)
                if value in first:
                    problems.append(
                        f"{kind}[{index}].{name}: {value} is also in {kind}[{first[value]}]"
                    )
                first.setdefault(value, index)
    problems += _shared_endpoints(data.agents)
    named: dict[str, int] = {}
    for index, operator in enumerate(data.operators):
        if (earlier := named.setdefault(operator.name, index)) != index:
            where = f"operators[{index}].name"
            problems.append(f"{where}: {operator.name} is also in operators[{earlier}]")
    seen: dict[str, str] = {}
    for place, _, transaction in _transactions(data):
        if transaction.id in seen:
            problems.append(f"{place}.id: {transaction.id} is also in {seen[transaction.id]}")
        seen.setdefault(transaction.id, place)
    return problems


def _shared_endpoints(agents: list[AgentIn]) -> list[str]:
    """Agents of the file rung at one place (the same phone twice is a phone's problem):
    Hotline could not tell which of them answered."""
    problems = []
    first: dict[str, int] = {}
    for index, agent in enumerate(agents):
        earlier = first.setdefault(_reached_at(agent), index)
        if earlier != index and (agent.endpoint or agents[earlier].endpoint):
            problems.append(
                f"agents[{index}].{_endpoint_field(agent)}: {agent.endpoint or agent.phone}"
                f" is where agents[{earlier}] is rung too"
            )
    return problems


def _reached_at(agent: AgentIn) -> str:
    """The key of where ``agent`` is rung (``Endpoint.key``); both fields are parsed."""
    return parse_endpoint(agent.endpoint or agent.phone, None).key


def _endpoint_field(agent: AgentIn) -> str:
    return "endpoint" if agent.endpoint else "phone"


def _taken_elsewhere(session: Session, data: ImportFile) -> list[str]:
    """Phone numbers and transaction ids that the database gives to another record."""
    problems = []
    owned: list[tuple[str, type[Customer] | type[Agent], Sequence[CustomerIn | AgentIn]]] = [
        ("customers", Customer, data.customers),
        ("agents", Agent, data.agents),
    ]
    for kind, model, records in owned:
        phones = [record.phone for record in records]
        phone_owners = dict(
            session.execute(select(model.phone, model.id).where(model.phone.in_(phones))).all()
        )
        for index, record in enumerate(records):
            owner = phone_owners.get(record.phone, record.id)
            if owner != record.id:
                problems.append(f"{kind}[{index}].phone: {record.phone} belongs to {owner}")
    problems += _endpoints_taken(session, data.agents)
    transactions = _transactions(data)
    transaction_owners = dict(
        session.execute(
            select(Transaction.id, Account.customer_id)
            .join(Transaction.account)
            .where(Transaction.id.in_([t.id for _, _, t in transactions]))
        ).all()
    )
    for place, customer_id, transaction in transactions:
        owner = transaction_owners.get(transaction.id, customer_id)
        if owner != customer_id:
            problems.append(f"{place}.id: {transaction.id} is a transaction of {owner}")
    return problems


def _endpoints_taken(session: Session, agents: list[AgentIn]) -> list[str]:
    """Endpoints where the database rings an agent this file does not name."""
    in_file = {agent.id for agent in agents}
    rung_at = {
        reach_key(agent): agent
        for agent in session.scalars(select(Agent).where(Agent.id.not_in(in_file)))
    }
    problems = []
    for index, record in enumerate(agents):
        owner = rung_at.get(_reached_at(record))
        if owner is not None and (record.endpoint or owner.endpoint):
            problems.append(
                f"agents[{index}].{_endpoint_field(record)}: {record.endpoint or record.phone}"
                f" is where {owner.id} is rung"
            )
    return problems


def _transactions(data: ImportFile) -> list[tuple[str, str, TransactionIn]]:
    """Every transaction of the file with its place and its customer's id."""
    return [
        (f"customers[{index}].transactions[{position}]", customer.id, transaction)
        for index, customer in enumerate(data.customers)
        for position, transaction in enumerate(customer.transactions)
    ]


def _upsert_customer(
    session: Session,
    record: CustomerIn,
    key: bytes,
    summary: ImportSummary,
    reasons: Mapping[str, Text],
) -> None:
    customer = session.get(Customer, record.id)
    summary.customers.add(new=customer is None)
    if customer is None:
        customer = Customer(id=record.id)
        session.add(customer)
    customer.name = record.name
    customer.phone = record.phone
    customer.language = record.language
    customer.pin_hash = (
        None if record.pin is None else keyed_hash(key, CUSTOMER_PIN, record.id, record.pin)
    )
    customer.status = record.status
    customer.freeze_reason = _coded(record.freeze_reason, reasons)
    account = customer.account
    if account is None:  # new, or made by something other than this importer
        account = customer.account = Account()
    account.balance = record.balance
    account.currency = record.currency
    for item in record.transactions:
        transaction = session.get(Transaction, item.id)
        summary.transactions.add(new=transaction is None)
        if transaction is None:
            transaction = Transaction(id=item.id)
            account.transactions.append(transaction)
        for name, value in item.model_dump(exclude={"id", "failure_reason"}).items():
            setattr(transaction, name, value)
        transaction.failure_reason = _coded(item.failure_reason, reasons)


def _coded(reason: str | None, reasons: Mapping[str, Text]) -> str | None:
    return None if reason is None else reason_code(reason, reasons)


def _upsert_agent(session: Session, record: AgentIn, key: bytes, summary: ImportSummary) -> None:
    agent = session.get(Agent, record.id)
    summary.agents.add(new=agent is None)
    if agent is None:
        agent = Agent(id=record.id)  # status: offline until the agent calls in
        session.add(agent)
    agent.name = record.name
    agent.phone = record.phone
    agent.endpoint = record.endpoint
    agent.pin_hash = keyed_hash(key, AGENT_PIN, record.id, record.pin)
    agent.skills = list(dict.fromkeys(record.skills))
    agent.languages = list(dict.fromkeys(record.languages))
    password = record.desk_password
    if password is not None and not _same_password(agent.password_hash, password):
        agent.password_hash = hash_password(password)  # the same again: sessions stay


def _upsert_operator(
    session: Session, record: OperatorIn, now: datetime, summary: ImportSummary
) -> None:
    operator = session.scalars(select(Operator).where(Operator.name == record.name)).one_or_none()
    summary.operators.add(new=operator is None)
    if operator is None:
        operator = Operator(name=record.name, created_at=now)
        session.add(operator)
    operator.role = record.role
    password = record.password
    if password is not None and not _same_password(operator.password_hash, password):
        operator.password_hash = hash_password(password)  # the same again: sessions stay


def _new_without_password(session: Session, data: ImportFile) -> list[str]:
    known = set(session.scalars(select(Operator.name)))
    return [
        f"operators[{index}].password: a new operator needs a password"
        for index, record in enumerate(data.operators)
        if record.password is None and record.name not in known
    ]


def _same_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` is the one already set: a new person has none to check (and
    checking against none costs a whole Argon2 hash for nothing)."""
    return stored is not None and password_matches(stored, password)
