"""``import_data`` and ``load_file`` on a real, migrated SQLite database (SPEC §7)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Account, Agent, Base, Customer, Transaction
from models.db import make_engine, upgrade
from ops.commands import DEMO_FILE
from ops.importer import MAX_PROBLEMS, Counts, ImportFailed, ImportSummary, import_data, load_file
from verification.secrets import AGENT_PIN, CUSTOMER_PIN, keyed_hash

KEY = b"importer-test-key"
E164 = re.compile(r"\+[1-9]\d{6,14}")
Payload = dict[str, Any]
DEMO: Payload = load_file(DEMO_FILE)


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    upgrade(engine)
    yield sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def imported(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database holding the demo data set."""
    run_import(sessions, demo())
    return sessions


def demo() -> Payload:
    return copy.deepcopy(DEMO)


def run_import(sessions: sessionmaker[Session], payload: Payload) -> ImportSummary:
    with sessions() as session, session.begin():
        return import_data(session, payload, key=KEY, region="CN")


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a failed import changed nothing."""
    with sessions() as session:
        return {
            table.name: sorted(tuple(row) for row in session.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def assert_rejected(sessions: sessionmaker[Session], payload: Payload, message: str) -> str:
    """Import ``payload``, expect ``message`` among the problems and the database unchanged."""
    before = snapshot(sessions)
    with sessions() as session:
        with pytest.raises(ImportFailed) as failed:
            import_data(session, payload, key=KEY, region="CN")
        # Commit what the session holds: checking must have come before any write.
        session.commit()
    assert message in str(failed.value)
    assert snapshot(sessions) == before
    return str(failed.value)


def raw_row(session: Session, model: type[Customer] | type[Agent], id_: str) -> str:
    """The row's text and numbers as stored: where a PIN in the clear would show (times
    are left out: their microseconds may hold any four digits)."""
    table = model.__table__
    row = session.execute(select(table).where(table.c.id == id_)).one()
    return " ".join(str(value) for value in row if isinstance(value, str | int))


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def new_customer(id_: str, phone: str, **fields: Any) -> Payload:
    return {
        "id": id_,
        "name": "赵六",
        "phone": phone,
        "language": "zh",
        "pin": "9999",
        "status": "active",
        "balance": "0.00",
        "currency": "CNY",
        **fields,
    }


# --- the demo data set ----------------------------------------------------------


def test_demo_file_imports_every_customer_and_agent_with_hashed_pins(
    sessions: sessionmaker[Session],
) -> None:
    summary = run_import(sessions, demo())

    transactions = sum(len(c["transactions"]) for c in DEMO["customers"])
    assert summary == ImportSummary(
        customers=Counts(created=len(DEMO["customers"])),
        transactions=Counts(created=transactions),
        agents=Counts(created=len(DEMO["agents"])),
        operators=Counts(created=len(DEMO["operators"])),
    )
    with sessions() as session:
        assert count(session, Account) == len(DEMO["customers"])
        for record in DEMO["customers"]:
            customer = session.get_one(Customer, record["id"])
            assert E164.fullmatch(customer.phone) and customer.phone == record["phone"]
            if record["pin"] is None:
                assert customer.pin_hash is None
            else:
                pin = record["pin"]
                assert customer.pin_hash == keyed_hash(KEY, CUSTOMER_PIN, record["id"], pin)
                assert pin not in raw_row(session, Customer, record["id"])
            assert customer.account.balance == Decimal(record["balance"])
            assert {t.id for t in customer.account.transactions} == {
                t["id"] for t in record["transactions"]
            }
        for record in DEMO["agents"]:
            agent = session.get_one(Agent, record["id"])
            assert E164.fullmatch(agent.phone) and agent.phone == record["phone"]
            assert agent.pin_hash == keyed_hash(KEY, AGENT_PIN, record["id"], record["pin"])
            assert record["pin"] not in raw_row(session, Agent, record["id"])
            assert (agent.skills, agent.languages) == (record["skills"], record["languages"])
            assert agent.status == "offline"
        withdrawal = session.get_one(Transaction, "T9001")
        assert withdrawal.created_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_demo_data_reaches_every_branch_of_the_default_flow(
    imported: sessionmaker[Session],
) -> None:
    with imported() as session:
        customers = session.scalars(select(Customer)).all()
        agents = session.scalars(select(Agent)).all()

        def latest(customer: Customer, *kinds: str) -> Transaction:
            found = [t for t in customer.account.transactions if not kinds or t.kind in kinds]
            return max(found, key=lambda t: t.created_at)

        active = [c for c in customers if c.status == "active" and c.pin_hash]
        assert {c.language for c in active} == {"zh", "en"}
        assert any(c.status == "frozen" and c.freeze_reason for c in customers)
        assert any(c.pin_hash is None for c in customers)
        arriving = [latest(c, "topup", "withdrawal") for c in active]
        assert {(t.kind, t.status) for t in arriving if t.expected_at} >= {
            ("withdrawal", "pending"),
            ("topup", "pending"),
        }
        last = [latest(c) for c in active]
        assert any(t.status == "failed" and t.failure_reason for t in last)
        assert any((t.kind, t.status) == ("payment", "completed") for t in last)

        assert {s for a in agents for s in a.skills} == {
            "account",
            "funds",
            "transactions",
            "guides",
        }
        assert {tuple(sorted(a.languages)) for a in agents} == {("zh",), ("en",), ("en", "zh")}


# --- phone numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "region", "stored"),
    [
        ("13800138000", "CN", "+8613800138000"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("008613800138000", "CN", "+8613800138000"),
        ("+86 138-0013-8000", "US", "+8613800138000"),
        ("(650) 253-0000", "US", "+16502530000"),
    ],
)
def test_phone_numbers_are_stored_in_e164(
    sessions: sessionmaker[Session], written: str, region: str, stored: str
) -> None:
    agent = {**DEMO["agents"][0], "phone": written}
    payload = {"customers": [new_customer("C1", written)], "agents": [agent]}
    with sessions() as session, session.begin():
        import_data(session, payload, key=KEY, region=region)

    with sessions() as session:
        assert session.get_one(Customer, "C1").phone == stored
        assert session.get_one(Agent, agent["id"]).phone == stored


def test_a_national_number_of_another_region_is_invalid(sessions: sessionmaker[Session]) -> None:
    payload = {"customers": [new_customer("C1", "(650) 253-0000")]}
    assert_rejected(sessions, payload, "customers[0].phone: '(650) 253-0000' is not a valid")


# --- importing again ------------------------------------------------------------------


def test_reimport_updates_rows_instead_of_duplicating_them(imported: sessionmaker[Session]) -> None:
    with imported() as session, session.begin():
        session.get_one(Agent, "A01").status = "available"
    before = snapshot(imported)
    changed = demo()
    customer = changed["customers"][0]
    customer.update(name="王晓明", balance="99.99", pin="112233")
    customer["transactions"][0]["status"] = "completed"
    changed["agents"][0]["skills"] = ["guides"]

    summary = run_import(imported, changed)

    assert (summary.customers, summary.transactions, summary.agents) == (
        Counts(updated=len(DEMO["customers"])),
        Counts(updated=sum(len(c["transactions"]) for c in DEMO["customers"])),
        Counts(updated=len(DEMO["agents"])),
    )
    assert {name: len(rows) for name, rows in snapshot(imported).items()} == {
        name: len(rows) for name, rows in before.items()
    }
    with imported() as session:
        stored = session.get_one(Customer, customer["id"])
        assert (stored.name, stored.account.balance) == ("王晓明", Decimal("99.99"))
        assert stored.pin_hash == keyed_hash(KEY, CUSTOMER_PIN, customer["id"], "112233")
        assert session.get_one(Transaction, customer["transactions"][0]["id"]).status == "completed"
        agent = session.get_one(Agent, "A01")
        # The live status belongs to the running hotline, not to the file.
        assert (agent.skills, agent.status) == (["guides"], "available")


def test_reimport_without_a_pin_clears_the_stored_one(imported: sessionmaker[Session]) -> None:
    changed = demo()
    changed["customers"][0]["pin"] = None
    run_import(imported, changed)
    with imported() as session:
        assert session.get_one(Customer, changed["customers"][0]["id"]).pin_hash is None


def test_transactions_left_out_of_a_later_file_are_kept(imported: sessionmaker[Session]) -> None:
    customer = demo()["customers"][0]
    assert len(customer["transactions"]) > 1
    kept = {t["id"] for t in customer["transactions"]}
    customer["transactions"] = customer["transactions"][:1]

    summary = run_import(imported, {"customers": [customer]})

    assert summary.transactions == Counts(updated=1)
    with imported() as session:
        account = session.get_one(Customer, customer["id"]).account
        assert {t.id for t in account.transactions} == kept


# --- bad records ------------------------------------------------------------------------


def set_at(path: str, value: Any) -> Callable[[Payload], None]:
    """A change to the payload at a dotted path such as ``customers.0.phone``."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]

    def change(payload: Payload) -> None:
        target: Any = payload
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def drop(path: str) -> Callable[[Payload], None]:
    *parents, last = path.split(".")

    def change(payload: Payload) -> None:
        target: Any = payload
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return change


BAD_RECORDS = [
    pytest.param(
        set_at("customers.2.phone", "12345"),
        "customers[2].phone: '12345' is not a valid phone number",
        id="bad-phone",
    ),
    pytest.param(
        set_at("customers.0.transactions.1.kind", "gift"),
        "customers[0].transactions[1].kind: Input should be 'topup', 'withdrawal',",
        id="unknown-kind",
    ),
    pytest.param(
        set_at("customers.0.transactions.0.amount", "-1.00"),
        "customers[0].transactions[0].amount: Input should be greater than or equal to 0",
        id="negative-amount",
    ),
    pytest.param(drop("customers.1.name"), "customers[1].name: Field required", id="no-name"),
    pytest.param(drop("customers.3.pin"), "customers[3].pin: Field required", id="no-pin-key"),
    pytest.param(
        set_at("customers.0.transactions.0.created_at", "2026-11-20T10:00:00"),
        "customers[0].transactions[0].created_at: Input should have timezone info",
        id="naive-time",
    ),
    pytest.param(
        set_at("customers.1.balance", "10.005"),
        "customers[1].balance: Decimal input should have no more than 2 decimal places",
        id="three-decimals",
    ),
    pytest.param(set_at("customers.0.currency", "cny"), "customers[0].currency:", id="currency"),
    pytest.param(set_at("customers.0.status", "closed"), "customers[0].status:", id="status"),
    pytest.param(set_at("customers.0.language", "fr"), "customers[0].language:", id="language"),
    pytest.param(set_at("customers.0.pin", "12345678"), "customers[0].pin:", id="long-pin"),
    pytest.param(set_at("customers.0.id", "  "), "customers[0].id:", id="blank-id"),
    pytest.param(
        set_at("customers.0.nickname", "小明"),
        "customers[0].nickname: Extra inputs are not permitted",
        id="extra-field",
    ),
    pytest.param(set_at("agents.0.pin", None), "agents[0].pin:", id="agent-without-pin"),
    pytest.param(set_at("agents.1.skills", []), "agents[1].skills:", id="no-skills"),
    pytest.param(
        set_at("agents.2.languages", ["en", "fr"]),
        "agents[2].languages[1]: Input should be 'zh' or 'en'",
        id="agent-language",
    ),
    pytest.param(set_at("agents.0.phone", "anonymous"), "agents[0].phone:", id="agent-phone"),
]


@pytest.mark.parametrize(("spoil", "message"), BAD_RECORDS)
def test_a_bad_record_is_named_and_nothing_is_written(
    imported: sessionmaker[Session], spoil: Callable[[Payload], None], message: str
) -> None:
    payload = demo()
    # Good changes beside the bad record, which must not get through either.
    payload["customers"][0]["name"] = "改过的名字"
    payload["customers"].append(new_customer("C2000", "+8613500135000"))
    spoil(payload)

    assert_rejected(imported, payload, message)

    with imported() as session:
        assert session.get_one(Customer, "C1001").name == DEMO["customers"][0]["name"]
        assert session.get(Customer, "C2000") is None


def test_several_problems_are_reported_together(sessions: sessionmaker[Session]) -> None:
    payload = demo()
    set_at("customers.0.transactions.0.amount", "-5")(payload)
    set_at("customers.2.phone", "12345")(payload)
    drop("agents.1.name")(payload)

    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, payload)

    assert str(failed.value).splitlines() == [
        "customers[0].transactions[0].amount: Input should be greater than or equal to 0",
        "customers[2].phone: '12345' is not a valid phone number",
        "agents[1].name: Field required",
    ]


def test_a_flood_of_problems_is_cut_short(sessions: sessionmaker[Session]) -> None:
    payload = {"customers": [new_customer(f"C{n}", "0") for n in range(MAX_PROBLEMS + 5)]}
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, payload)
    lines = str(failed.value).splitlines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == "... and 5 more problems"


def test_problems_never_show_a_pin(sessions: sessionmaker[Session]) -> None:
    payload = demo()
    set_at("customers.0.pin", "12a45")(payload)
    set_at("customers.1.phone", "12345")(payload)
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, payload)
    shown = str(failed.value)
    assert "customers[0].pin" in shown and "customers[1].phone" in shown
    for secret in ("12a45", DEMO["customers"][1]["pin"]):
        assert secret not in shown
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


# --- duplicates and numbers taken -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        pytest.param(
            set_at("customers.1.id", "C1001"), "customers[1].id: C1001 is also in customers[0]"
        ),
        pytest.param(
            set_at("customers.3.phone", "13800138000"),
            "customers[3].phone: +8613800138000 is also in customers[0]",
            id="same-phone-written-differently",
        ),
        pytest.param(
            set_at("customers.2.transactions.0.id", "T9001"),
            "customers[2].transactions[0].id: T9001 is also in customers[0].transactions[0]",
        ),
        pytest.param(set_at("agents.2.id", "A01"), "agents[2].id: A01 is also in agents[0]"),
        pytest.param(
            set_at("agents.1.phone", DEMO["agents"][0]["phone"]),
            f"agents[1].phone: {DEMO['agents'][0]['phone']} is also in agents[0]",
        ),
        # Two agents rung at one place: Hotline could not tell who answered.
        pytest.param(
            set_at("agents.1.endpoint", "client:zhou_min"),
            "agents[4].endpoint: client:zhou_min is where agents[1] is rung too",
            id="two-browsers",
        ),
        pytest.param(
            set_at("agents.1.endpoint", "sip:david@Desk.PBX.example.com"),
            "agents[5].endpoint: sip:david@desk.pbx.example.com;transport=tls"
            " is where agents[1] is rung too",
            id="one-desk-phone-written-two-ways",
        ),
        pytest.param(
            set_at("agents.1.endpoint", DEMO["agents"][0]["phone"]),
            f"agents[1].endpoint: {DEMO['agents'][0]['phone']} is where agents[0] is rung too",
            id="another-agents-phone",
        ),
    ],
)
def test_duplicates_inside_the_file_are_rejected(
    sessions: sessionmaker[Session], spoil: Callable[[Payload], None], message: str
) -> None:
    payload = demo()
    spoil(payload)
    assert_rejected(sessions, payload, message)


def test_a_phone_of_another_customer_in_the_database_is_rejected(
    imported: sessionmaker[Session],
) -> None:
    taken = DEMO["customers"][0]
    payload = {"customers": [new_customer("C2000", taken["phone"])]}
    assert_rejected(
        imported, payload, f"customers[0].phone: {taken['phone']} belongs to {taken['id']}"
    )


def test_a_phone_of_another_agent_in_the_database_is_rejected(
    imported: sessionmaker[Session],
) -> None:
    taken = DEMO["agents"][1]
    agent = {**DEMO["agents"][0], "id": "A99", "phone": taken["phone"]}
    assert_rejected(
        imported, {"agents": [agent]}, f"agents[0].phone: {taken['phone']} belongs to {taken['id']}"
    )


def test_a_transaction_of_another_customer_is_rejected(imported: sessionmaker[Session]) -> None:
    other = demo()["customers"][2]
    other["transactions"][0]["id"] = "T9001"  # C1001's
    message = "customers[0].transactions[0].id: T9001 is a transaction of C1001"
    assert_rejected(imported, {"customers": [other]}, message)


# --- where agents are rung (issue 9 #1) -----------------------------------------------------


def test_an_agents_endpoint_is_kept_as_twilio_dials_it_and_without_one_the_phone_is_rung(
    sessions: sessionmaker[Session],
) -> None:
    payload = demo()
    payload["agents"][0]["endpoint"] = "CLIENT:li_na"
    payload["agents"][1]["endpoint"] = "010 6552 9988"  # a desk landline, written locally
    run_import(sessions, payload)
    with sessions() as session:
        endpoints = dict(session.execute(select(Agent.id, Agent.endpoint)).all())
    assert endpoints == {
        "A01": "client:li_na",
        "A02": "+861065529988",
        "A03": None,  # rung on their phone
        "A04": None,
        "A05": "client:zhou_min",
        "A06": "sip:david@desk.pbx.example.com;transport=tls",
    }


def test_importing_again_without_an_endpoint_rings_the_phone_again(
    imported: sessionmaker[Session],
) -> None:
    payload = demo()
    del payload["agents"][4]["endpoint"]
    run_import(imported, payload)
    with imported() as session:
        assert session.get(Agent, "A05").endpoint is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("client:li na", "agents[0].endpoint: 'client:li na': a client: identity is letters"),
        ("sip:desk", "agents[0].endpoint: 'sip:desk': not a SIP URI"),
        ("desk phone", "agents[0].endpoint: 'desk phone': not a phone number"),
        ("sips:desk@pbx.example.com", "agents[0].endpoint: 'sips:desk@pbx.example.com': Twilio"),
    ],
)
def test_an_endpoint_twilio_could_not_dial_is_named_by_record_and_field(
    sessions: sessionmaker[Session], endpoint: str, message: str
) -> None:
    payload = demo()
    payload["agents"][0]["endpoint"] = endpoint
    assert_rejected(sessions, payload, message)


def test_an_endpoint_where_the_database_rings_another_agent_is_rejected(
    imported: sessionmaker[Session],
) -> None:
    agent = {**DEMO["agents"][0], "id": "A99", "phone": "+8613900000099"}
    agent["endpoint"] = "client:zhou_min"
    assert_rejected(
        imported, {"agents": [agent]}, "agents[0].endpoint: client:zhou_min is where A05 is rung"
    )


# --- reading the file ----------------------------------------------------------------------


def test_malformed_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    path.write_text('{\n  "customers": [\n    {"id": "C1",}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ImportFailed, match=re.escape(f"{path}: line 3, column 17: not valid JSON")):
        load_file(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.json"
    with pytest.raises(ImportFailed, match=re.escape(f"{path}: cannot read the file")):
        load_file(path)


def test_a_file_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ImportFailed, match="expected a JSON object"):
        load_file(path)


def test_json_numbers_are_read_as_exact_decimals(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    path = tmp_path / "numbers.json"
    customer = new_customer("C1", "+8613800138000")
    text = json.dumps({"customers": [customer]}).replace('"0.00"', "1280.10")
    # Written with a byte-order mark, as some editors on Windows do.
    path.write_text(text, encoding="utf-8-sig")

    payload = load_file(path)
    run_import(sessions, payload)

    assert payload["customers"][0]["balance"] == Decimal("1280.10")
    with sessions() as session:
        assert session.get_one(Customer, "C1").account.balance == Decimal("1280.10")


def test_a_reason_that_is_a_code_or_its_words_is_kept_as_the_code(
    sessions: sessionmaker[Session],
) -> None:
    """Old files with the words still import: they become the code, said in any language;
    other words are kept as the free text they are."""
    from tests.flowfile.flows import shipped_flow

    payload = demo()
    wang, jing, emily = payload["customers"][:3]
    jing["freeze_reason"] = " 检测到异地异常登录，为保护资金安全已临时冻结 "  # the code's zh words
    wang["transactions"][2]["failure_reason"] = "商户暂时无法收款"
    emily["transactions"][1]["failure_reason"] = "bank_declined"  # a code as it is
    wang["transactions"][0]["failure_reason"] = "Issuer offline, retry later"  # free text
    with sessions() as session, session.begin():
        import_data(session, payload, key=KEY, region="CN", reasons=shipped_flow().reasons)
    with sessions() as session:
        reasons = dict(session.execute(select(Transaction.id, Transaction.failure_reason)).all())
        assert session.get(Customer, jing["id"]).freeze_reason == "suspicious_login"  # type: ignore[union-attr]
    assert reasons[wang["transactions"][2]["id"]] == "merchant_unavailable"
    assert reasons[emily["transactions"][1]["id"]] == "bank_declined"
    assert reasons[wang["transactions"][0]["id"]] == "Issuer offline, retry later"
