"""Whether a connection has a transaction open, as its database sees it: Hotline begins
one only at a step's first write (models.db), so SQLAlchemy's own view does not say."""

from __future__ import annotations

import psycopg
from sqlalchemy import Connection

# Connection.info key (the pooled connection's own dict): the next transaction commits
# durably (models.db.commit_durably).
DURABLE = "hotline_durable"


def in_transaction(connection: Connection) -> bool:
    driver = connection.connection.driver_connection
    if isinstance(driver, psycopg.Connection):
        # INERROR too: a failed transaction's statements must fail, not begin another.
        return driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    in_transaction: bool = driver.in_transaction  # type: ignore[union-attr]
    return in_transaction
