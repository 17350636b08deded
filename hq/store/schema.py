"""HQ's schema, versioned: each backend's migrations side by side, and which steps a database
needs. A new version adds one step to both lists; a worker refuses a schema newer than it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hq.store import StoreError


class SchemaTooNew(StoreError):
    """The database was migrated by a newer HQ than this worker."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"the database schema is version {found}, newer than version {known} "
                         f"this HQ knows: upgrade this worker to the release that migrated it")
        self.found = found
        self.known = known


@dataclass(frozen=True)
class Migration:
    """One schema version: the statements that bring version-1 to it, run in one transaction."""

    version: int
    statements: tuple[str, ...]


def pending(found: int, migrations: Sequence[Migration]) -> list[Migration]:
    """The steps after version `found` (0: an empty database), in order; SchemaTooNew if the
    database is newer than the last step. Versions must run 1, 2, 3 … without gaps."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migrations must be numbered 1..n, got {versions}")
    if found > len(migrations):
        raise SchemaTooNew(found, len(migrations))
    return list(migrations[found:])


VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                 "applied_ms BIGINT NOT NULL)")
"""One row per applied version (the same statement on both backends)."""

SQLITE: tuple[Migration, ...] = (
    # Version 1 is the schema HQ had before versioning: IF NOT EXISTS adopts those files as is.
    Migration(1, (
        "CREATE TABLE IF NOT EXISTS journal (box TEXT NOT NULL, seq INTEGER NOT NULL, "
        "raw BLOB NOT NULL, hash BLOB NOT NULL, sig BLOB NOT NULL, received_ms INTEGER NOT NULL,"
        " PRIMARY KEY (box, seq)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS journal_head (box TEXT PRIMARY KEY, log TEXT NOT NULL, "
        "size INTEGER NOT NULL, head BLOB NOT NULL, cosignature TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS alarms (id INTEGER PRIMARY KEY, box TEXT NOT NULL, "
        "kind TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL, evidence TEXT NOT NULL,"
        " at_ms INTEGER NOT NULL, UNIQUE (box, kind, seq))",
        "CREATE TABLE IF NOT EXISTS event_streams (box TEXT NOT NULL, stream TEXT NOT NULL, "
        "pos INTEGER NOT NULL, PRIMARY KEY (box, stream))",
        "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, box TEXT NOT NULL, "
        "printer TEXT NOT NULL, body TEXT NOT NULL, body_hash TEXT NOT NULL, "
        "expires_at_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, dispatched_ms INTEGER, "
        "intake TEXT, intake_error TEXT, intake_ms INTEGER)",
        "CREATE INDEX IF NOT EXISTS jobs_pending ON jobs (dispatched_ms, created_ms)",
        "CREATE TABLE IF NOT EXISTS job_states (job_id TEXT NOT NULL, version INTEGER NOT NULL,"
        " box TEXT NOT NULL, printer TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, "
        "at_ms INTEGER NOT NULL, received_ms INTEGER NOT NULL, PRIMARY KEY (job_id, version))",
        "CREATE TABLE IF NOT EXISTS commands (nonce TEXT PRIMARY KEY, box TEXT NOT NULL, "
        "name TEXT NOT NULL, args TEXT NOT NULL, issued_ms INTEGER NOT NULL, "
        "expires_ms INTEGER NOT NULL, published_ms INTEGER, result TEXT, error TEXT, "
        "result_ms INTEGER)",
        "CREATE TABLE IF NOT EXISTS boxes (id TEXT PRIMARY KEY, state TEXT NOT NULL)",
    )),
    # Version 2: people (users, sessions, API tokens), the audit log, who sent which job.
    Migration(2, (
        "CREATE TABLE users (name TEXT PRIMARY KEY, display TEXT NOT NULL, role TEXT NOT NULL, "
        "stores TEXT NOT NULL, password TEXT NOT NULL, disabled INTEGER NOT NULL, "
        "created_ms INTEGER NOT NULL, changed_ms INTEGER NOT NULL)",
        "CREATE TABLE sessions (key TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,"
        " created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL)",
        "CREATE INDEX sessions_user ON sessions (username)",
        "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, scopes TEXT NOT NULL,"
        " hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL, "
        "revoked_ms INTEGER)",
        "CREATE TABLE audit (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
        " action TEXT NOT NULL, target TEXT NOT NULL, address TEXT NOT NULL, "
        "ok INTEGER NOT NULL, detail TEXT NOT NULL)",
        "CREATE INDEX audit_actor ON audit (actor, action, at_ms)",
        "CREATE INDEX audit_address ON audit (address, action, at_ms)",
        "CREATE TABLE job_owners (job_id TEXT PRIMARY KEY, username TEXT NOT NULL, "
        "seq INTEGER NOT NULL)",
        "CREATE INDEX job_owners_user ON job_owners (username, seq)",
    )),
    # Version 3: customers and orders, users as ERP salespeople, reprints (hq.store.orders).
    Migration(3, (
        "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, body TEXT NOT NULL, "
        "changed_ms INTEGER NOT NULL)",
        "CREATE TABLE orders (order_no TEXT PRIMARY KEY, customer TEXT NOT NULL, "
        "salesperson TEXT NOT NULL, store TEXT, body TEXT NOT NULL, body_hash TEXT NOT NULL, "
        "created_ms INTEGER NOT NULL, seq INTEGER NOT NULL)",
        "CREATE INDEX orders_salesperson ON orders (salesperson, seq)",
        "CREATE INDEX orders_seq ON orders (seq)",
        "CREATE TABLE salesperson_users (username TEXT PRIMARY KEY, salesperson TEXT NOT NULL)",
        "CREATE TABLE job_reprints (job_id TEXT PRIMARY KEY, original TEXT NOT NULL, "
        "reason TEXT NOT NULL, username TEXT NOT NULL, at_ms INTEGER NOT NULL)",
    )),
    # Version 4: clearing runs (one per business day, immutable) and cash deposits.
    Migration(4, (
        "CREATE TABLE clearing_runs (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
        "day TEXT NOT NULL UNIQUE, by_user TEXT NOT NULL, at_ms INTEGER NOT NULL, "
        "body TEXT NOT NULL)",
        "CREATE TABLE clearing_deposits (id TEXT PRIMARY KEY, store TEXT NOT NULL, "
        "day TEXT NOT NULL, amount INTEGER NOT NULL, bank_ref TEXT NOT NULL, "
        "note TEXT NOT NULL, by_user TEXT NOT NULL, at_ms INTEGER NOT NULL)",
        "CREATE INDEX clearing_deposits_day ON clearing_deposits (day, at_ms)",
    )),
    # Version 5: alerts (at most one open per kind and subject) and their delivery outbox.
    Migration(5, (
        "CREATE TABLE alerts (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL,"
        " box TEXT NOT NULL, store TEXT NOT NULL, raised_ms INTEGER NOT NULL, cleared_ms INTEGER,"
        " detail TEXT NOT NULL, acked_by TEXT, acked_ms INTEGER)",
        "CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, subject) WHERE cleared_ms IS NULL",
        "CREATE INDEX alerts_subject ON alerts (kind, subject)",
        "CREATE INDEX alerts_cleared ON alerts (cleared_ms)",
        "CREATE TABLE alert_outbox (id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, "
        "event TEXT NOT NULL, target TEXT NOT NULL, at_ms INTEGER NOT NULL, "
        "attempts INTEGER NOT NULL, next_ms INTEGER NOT NULL, lease_by TEXT, "
        "lease_until_ms INTEGER, delivered_ms INTEGER, failed_ms INTEGER, last_error TEXT, "
        "UNIQUE (alert_id, event, target))",
        "CREATE INDEX alert_outbox_due ON alert_outbox (delivered_ms, failed_ms, next_ms)",
    )),
    # Version 6: the product catalog, and the report aggregates with each box's position.
    Migration(6, (
        "CREATE TABLE catalog (sku TEXT PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL, "
        "unit TEXT NOT NULL, price INTEGER NOT NULL, member_price INTEGER NOT NULL, "
        "cost INTEGER NOT NULL, barcode TEXT NOT NULL, location TEXT NOT NULL, "
        "category TEXT NOT NULL, serial_tracked INTEGER NOT NULL, changed_ms INTEGER NOT NULL)",
        "CREATE TABLE report_pos (box TEXT PRIMARY KEY, pos INTEGER NOT NULL)",
        "CREATE TABLE report_agg (cube TEXT NOT NULL, period TEXT NOT NULL, "
        "store TEXT NOT NULL, key TEXT NOT NULL, qty INTEGER NOT NULL, amount INTEGER NOT NULL,"
        " cost INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (cube, period, store, key))"
        " WITHOUT ROWID",
        "CREATE TABLE report_member (member TEXT PRIMARY KEY, clerk TEXT NOT NULL, "
        "store TEXT NOT NULL, box TEXT NOT NULL, seq INTEGER NOT NULL, "
        "assigned_by TEXT NOT NULL, changed_ms INTEGER NOT NULL)",
    )),
    # Version 7: an order's list position is unique (SQLite has one writer: MAX + 1 is safe).
    Migration(7, (
        "DROP INDEX orders_seq",
        "CREATE UNIQUE INDEX orders_seq ON orders (seq)",
    )),
)

# Identifiers sort bytewise (COLLATE "C") as in SQLite, whatever the database's locale.
POSTGRES: tuple[Migration, ...] = (
    Migration(1, (
        'CREATE TABLE journal (box TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, '
        "raw BYTEA NOT NULL, hash BYTEA NOT NULL, sig BYTEA NOT NULL, "
        "received_ms BIGINT NOT NULL, PRIMARY KEY (box, seq))",
        'CREATE TABLE journal_head (box TEXT COLLATE "C" PRIMARY KEY, log TEXT NOT NULL, '
        "size BIGINT NOT NULL, head BYTEA NOT NULL, cosignature TEXT NOT NULL)",
        "CREATE TABLE alarms (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        'box TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL, seq BIGINT NOT NULL, '
        "reason TEXT NOT NULL, evidence TEXT NOT NULL, at_ms BIGINT NOT NULL, "
        "UNIQUE (box, kind, seq))",
        'CREATE TABLE event_streams (box TEXT COLLATE "C" NOT NULL, stream TEXT NOT NULL, '
        "pos BIGINT NOT NULL, PRIMARY KEY (box, stream))",
        'CREATE TABLE jobs (id TEXT COLLATE "C" PRIMARY KEY, box TEXT COLLATE "C" NOT NULL, '
        "printer TEXT NOT NULL, body TEXT NOT NULL, body_hash TEXT NOT NULL, "
        "expires_at_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL, dispatched_ms BIGINT, "
        "intake TEXT, intake_error TEXT, intake_ms BIGINT)",
        "CREATE INDEX jobs_pending ON jobs (dispatched_ms, created_ms)",
        "CREATE INDEX jobs_box ON jobs (box, created_ms)",
        'CREATE TABLE job_states (job_id TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL, '
        "box TEXT NOT NULL, printer TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, "
        "at_ms BIGINT NOT NULL, received_ms BIGINT NOT NULL, PRIMARY KEY (job_id, version))",
        'CREATE TABLE commands (nonce TEXT COLLATE "C" PRIMARY KEY, box TEXT NOT NULL, '
        "name TEXT NOT NULL, args TEXT NOT NULL, issued_ms BIGINT NOT NULL, "
        "expires_ms BIGINT NOT NULL, published_ms BIGINT, result TEXT, error TEXT, "
        "result_ms BIGINT)",
        'CREATE TABLE boxes (id TEXT COLLATE "C" PRIMARY KEY, state TEXT NOT NULL)',
    )),
    # Version 2: people (users, sessions, API tokens), the audit log, who sent which job.
    Migration(2, (
        'CREATE TABLE users (name TEXT COLLATE "C" PRIMARY KEY, display TEXT NOT NULL, '
        "role TEXT NOT NULL, stores TEXT NOT NULL, password TEXT NOT NULL, "
        "disabled INTEGER NOT NULL, created_ms BIGINT NOT NULL, changed_ms BIGINT NOT NULL)",
        'CREATE TABLE sessions (key TEXT COLLATE "C" PRIMARY KEY, username TEXT NOT NULL, '
        "csrf TEXT NOT NULL, created_ms BIGINT NOT NULL, expires_ms BIGINT NOT NULL)",
        "CREATE INDEX sessions_user ON sessions (username)",
        'CREATE TABLE api_tokens (id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, '
        "scopes TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_ms BIGINT NOT NULL, "
        "created_by TEXT NOT NULL, revoked_ms BIGINT)",
        "CREATE TABLE audit (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "at_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, "
        "target TEXT NOT NULL, address TEXT NOT NULL, ok INTEGER NOT NULL, "
        "detail TEXT NOT NULL)",
        "CREATE INDEX audit_actor ON audit (actor, action, at_ms)",
        "CREATE INDEX audit_address ON audit (address, action, at_ms)",
        'CREATE TABLE job_owners (job_id TEXT COLLATE "C" PRIMARY KEY, username TEXT NOT NULL, '
        "seq BIGINT NOT NULL)",
        "CREATE INDEX job_owners_user ON job_owners (username, seq)",
    )),
    # Version 3: customers and orders, users as ERP salespeople, reprints (hq.store.orders).
    Migration(3, (
        'CREATE TABLE customers (id TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, '
        "body TEXT NOT NULL, changed_ms BIGINT NOT NULL)",
        'CREATE TABLE orders (order_no TEXT COLLATE "C" PRIMARY KEY, customer TEXT NOT NULL, '
        'salesperson TEXT COLLATE "C" NOT NULL, store TEXT, body TEXT NOT NULL, '
        "body_hash TEXT NOT NULL, created_ms BIGINT NOT NULL, seq BIGINT NOT NULL)",
        "CREATE INDEX orders_salesperson ON orders (salesperson, seq)",
        "CREATE INDEX orders_seq ON orders (seq)",
        'CREATE TABLE salesperson_users (username TEXT COLLATE "C" PRIMARY KEY, '
        "salesperson TEXT NOT NULL)",
        'CREATE TABLE job_reprints (job_id TEXT COLLATE "C" PRIMARY KEY, original TEXT NOT NULL, '
        "reason TEXT NOT NULL, username TEXT NOT NULL, at_ms BIGINT NOT NULL)",
    )),
    # Version 4: clearing runs (one per business day, immutable) and cash deposits.
    Migration(4, (
        'CREATE TABLE clearing_runs (n BIGINT PRIMARY KEY, id TEXT COLLATE "C" NOT NULL UNIQUE, '
        'day TEXT COLLATE "C" NOT NULL UNIQUE, by_user TEXT NOT NULL, at_ms BIGINT NOT NULL, '
        "body TEXT NOT NULL)",
        'CREATE TABLE clearing_deposits (id TEXT COLLATE "C" PRIMARY KEY, '
        'store TEXT COLLATE "C" NOT NULL, day TEXT COLLATE "C" NOT NULL, '
        "amount BIGINT NOT NULL, bank_ref TEXT NOT NULL, note TEXT NOT NULL, "
        "by_user TEXT NOT NULL, at_ms BIGINT NOT NULL)",
        "CREATE INDEX clearing_deposits_day ON clearing_deposits (day, at_ms)",
    )),
    # Version 5: alerts (at most one open per kind and subject) and their delivery outbox.
    Migration(5, (
        "CREATE TABLE alerts (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        'kind TEXT COLLATE "C" NOT NULL, subject TEXT COLLATE "C" NOT NULL, box TEXT NOT NULL, '
        "store TEXT NOT NULL, raised_ms BIGINT NOT NULL, cleared_ms BIGINT, "
        "detail TEXT NOT NULL, acked_by TEXT, acked_ms BIGINT)",
        "CREATE UNIQUE INDEX alerts_one_open ON alerts (kind, subject) WHERE cleared_ms IS NULL",
        "CREATE INDEX alerts_subject ON alerts (kind, subject)",
        "CREATE INDEX alerts_cleared ON alerts (cleared_ms)",
        "CREATE TABLE alert_outbox (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "alert_id BIGINT NOT NULL, event TEXT NOT NULL, target TEXT NOT NULL, "
        "at_ms BIGINT NOT NULL, attempts INTEGER NOT NULL, next_ms BIGINT NOT NULL, "
        "lease_by TEXT, lease_until_ms BIGINT, delivered_ms BIGINT, failed_ms BIGINT, "
        "last_error TEXT, UNIQUE (alert_id, event, target))",
        "CREATE INDEX alert_outbox_due ON alert_outbox (delivered_ms, failed_ms, next_ms)",
    )),
    # Version 6: the product catalog, and the report aggregates with each box's position.
    Migration(6, (
        'CREATE TABLE catalog (sku TEXT COLLATE "C" PRIMARY KEY, name TEXT NOT NULL, '
        "spec TEXT NOT NULL, unit TEXT NOT NULL, price BIGINT NOT NULL, "
        "member_price BIGINT NOT NULL, cost BIGINT NOT NULL, barcode TEXT NOT NULL, "
        "location TEXT NOT NULL, category TEXT NOT NULL, serial_tracked INTEGER NOT NULL, "
        "changed_ms BIGINT NOT NULL)",
        'CREATE TABLE report_pos (box TEXT COLLATE "C" PRIMARY KEY, pos BIGINT NOT NULL)',
        'CREATE TABLE report_agg (cube TEXT COLLATE "C" NOT NULL, period TEXT COLLATE "C" '
        'NOT NULL, store TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, '
        "qty BIGINT NOT NULL, amount BIGINT NOT NULL, cost BIGINT NOT NULL, n BIGINT NOT NULL,"
        " PRIMARY KEY (cube, period, store, key))",
        'CREATE TABLE report_member (member TEXT COLLATE "C" PRIMARY KEY, clerk TEXT NOT NULL, '
        "store TEXT NOT NULL, box TEXT NOT NULL, seq BIGINT NOT NULL, "
        "assigned_by TEXT NOT NULL, changed_ms BIGINT NOT NULL)",
    )),
    # Version 7: an order's list position comes from a sequence; MAX + 1 repeated itself when
    # workers added orders at once. Positions given twice before are numbered again, in order.
    Migration(7, (
        "UPDATE orders SET seq = r.n FROM (SELECT order_no, row_number() OVER "
        "(ORDER BY seq, created_ms, order_no) AS n FROM orders) r "
        "WHERE orders.order_no = r.order_no",
        "DROP INDEX orders_seq",
        "CREATE UNIQUE INDEX orders_seq ON orders (seq)",
        "CREATE SEQUENCE orders_seq_next",
        "SELECT setval('orders_seq_next', (SELECT COALESCE(MAX(seq), 0) + 1 FROM orders), "
        "false)",
    )),
)

LATEST = len(SQLITE)
"""The schema version this HQ writes (both lists have it: tests/hq/store/test_schema.py)."""
