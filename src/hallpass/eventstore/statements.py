"""SQL for the events and tracking tables, in eventsourcing's Postgres layout."""

from __future__ import annotations

from dataclasses import dataclass

from hallpass.eventstore.identifiers import (
    MAX_IDENTIFIER_LENGTH,
    quote_identifier,
    quote_table_name,
    unqualified,
    validate_identifier,
)
from hallpass.eventstore.notice import NOTICE_EVENTS

# Each event's hash chains it to the previous version of its stream (decision 079): sha256 of that
# event's hash (32 zero bytes for a stream's first) and this event's stream, version, topic and
# state. `hallpass.audit.chain.event_hash` is the same function in Python.
GENESIS_SQL = "'\\x" + "00" * 32 + "'::bytea"


def _content(e: str) -> str:
    topic = f"convert_to({e}.topic, 'UTF8')"
    return (
        f"uuid_send({e}.originator_id) || int8send({e}.originator_version) "
        f"|| int4send(octet_length({topic})) || {topic} || coalesce({e}.state, ''::bytea)"
    )


def _chain(events: str, source: str) -> str:
    """A recursive CTE `chain` (stream, version, hash) over the rows of CTE `source`: a row whose
    previous version is also in `source` chains to it, any other to the table's previous version."""
    return (
        "chain AS ("
        "SELECT s.originator_id, s.originator_version, "
        f"sha256(coalesce(t.hash, {GENESIS_SQL}) || {_content('s')}) AS hash "
        f"FROM {source} s LEFT JOIN {events} t "
        "ON t.originator_id = s.originator_id AND t.originator_version = s.originator_version - 1 "
        f"WHERE NOT EXISTS (SELECT 1 FROM {source} p "
        "WHERE p.originator_id = s.originator_id AND p.originator_version = s.originator_version - 1) "
        "UNION ALL "
        f"SELECT s.originator_id, s.originator_version, sha256(c.hash || {_content('s')}) "
        f"FROM chain c JOIN {source} s "
        "ON s.originator_id = c.originator_id AND s.originator_version = c.originator_version + 1)"
    )


def _notice(channel: str) -> str:
    """The NOTIFY an append sends at commit, over its CTE `inserted`: the last notification id it
    wrote, then, for an append of at most `NOTICE_EVENTS` events, each event's stream and version
    (`hallpass.eventstore.notice`, decision 124)."""
    return (
        f"pg_notify({channel}, max(notification_id)::text || CASE WHEN count(*) <= {NOTICE_EVENTS} "
        "THEN ' ' || string_agg(originator_id::text || ':' || originator_version::text, ' ') "
        "ELSE '' END)"
    )


_AUTOVACUUM = (
    "WITH ("
    "autovacuum_enabled = true, "
    "autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, "
    "autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)


@dataclass(frozen=True)
class Statements:
    """Fixed SQL statements for one events table and one tracking table."""

    events: str
    tracking: str
    snapshots: str
    channel: str
    create_events_table: str
    create_snapshots_table: str
    add_hash_column: str
    insert_snapshots: str
    create_notification_id_index: str
    create_tracking_table: str
    lock_events: str
    begin_locked: str
    insert_events: str
    insert_batch: str
    append_function: str
    create_append_function: str
    call_append_function: str
    select_stream: str
    select_streams: str
    select_notifications: str
    select_first_events: str
    max_notification_id: str
    lock_tracking: str
    insert_tracking: str
    max_tracking_id: str
    has_tracking_id: str
    delete_tracking: str
    lock_trackings: str
    insert_trackings: str
    tracking_positions: str
    notifications_after_positions: str

    @classmethod
    def build(cls, events_table: str, tracking_table: str, channel: str, snapshots_table: str) -> Statements:
        events = quote_table_name(events_table)
        tracking = quote_table_name(tracking_table)
        snapshots = quote_table_name(snapshots_table)
        index_name = f"{unqualified(events_table)}_notification_id_idx"
        index = quote_identifier(index_name[:MAX_IDENTIFIER_LENGTH])
        function_name = f"{unqualified(events_table)}_append"[:MAX_IDENTIFIER_LENGTH]
        schema = events_table.rsplit(".", 1)[0] + "." if "." in events_table else ""
        function = quote_table_name(schema + function_name)
        insert_batch = (
            # Several appends in one statement: an append any of whose stream versions is
            # already recorded, or that was decided on a stream at a version since passed
            # ($7-$9: stream, version held, append), "clashed" and writes nothing; the others
            # are inserted in order, each event with its hash chained to its stream's previous
            # version. All parts of the statement see the table as it was when it began.
            "WITH RECURSIVE e AS ("
            "SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[], $5::int[]) "
            "WITH ORDINALITY AS e(originator_id, originator_version, topic, state, append_no, n)), "
            "held AS (SELECT * FROM unnest($7::uuid[], $8::bigint[], $9::int[]) "
            "AS h(originator_id, originator_version, append_no)), "
            "clashed AS ("
            f"SELECT e.append_no FROM e JOIN {events} t "
            "ON t.originator_id = e.originator_id AND t.originator_version = e.originator_version "
            f"UNION SELECT h.append_no FROM held h WHERE EXISTS (SELECT 1 FROM {events} t "
            "WHERE t.originator_id = h.originator_id AND t.originator_version > h.originator_version)), "
            "kept AS (SELECT * FROM e WHERE e.append_no NOT IN (SELECT append_no FROM clashed)), "
            f"{_chain(events, 'kept')}, "
            "inserted AS ("
            f"INSERT INTO {events} (originator_id, originator_version, topic, state, hash) "
            "SELECT kept.originator_id, kept.originator_version, kept.topic, kept.state, chain.hash "
            "FROM kept JOIN chain USING (originator_id, originator_version) "
            "ORDER BY kept.n "
            "RETURNING notification_id, originator_id, originator_version) "
            "SELECT (SELECT array_agg(append_no) FROM clashed) AS clashed, "
            "array_agg(notification_id ORDER BY notification_id) AS ids, "
            f"CASE WHEN count(*) > 0 THEN {_notice('$6')} END::text AS notified "
            "FROM inserted"
        )
        return cls(
            events=events,
            tracking=tracking,
            snapshots=snapshots,
            channel=validate_identifier(channel),
            # eventsourcing's snapshot layout: one row per (stream, version) it was taken at.
            create_snapshots_table=(
                f"CREATE TABLE IF NOT EXISTS {snapshots} ("
                "originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, "
                "topic text NOT NULL, "
                "state bytea, "
                f"PRIMARY KEY (originator_id, originator_version)) {_AUTOVACUUM}"
            ),
            insert_snapshots=(
                f"INSERT INTO {snapshots} (originator_id, originator_version, topic, state) "
                "SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[]) "
                "ON CONFLICT DO NOTHING"
            ),
            create_events_table=(
                f"CREATE TABLE IF NOT EXISTS {events} ("
                "originator_id uuid NOT NULL, "
                "originator_version bigint NOT NULL, "
                "topic text NOT NULL, "
                "state bytea, "
                "notification_id bigserial, "
                "hash bytea, "
                f"PRIMARY KEY (originator_id, originator_version)) {_AUTOVACUUM}"
            ),
            add_hash_column=f"ALTER TABLE {events} ADD COLUMN IF NOT EXISTS hash bytea",
            create_notification_id_index=(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {events} (notification_id ASC)"
            ),
            create_tracking_table=(
                f"CREATE TABLE IF NOT EXISTS {tracking} ("
                "application_name text, "
                "notification_id bigint, "
                f"PRIMARY KEY (application_name, notification_id)) {_AUTOVACUUM}"
            ),
            lock_events=f"LOCK TABLE {events} IN EXCLUSIVE MODE",
            begin_locked=f"BEGIN; LOCK TABLE {events} IN EXCLUSIVE MODE",
            insert_events=(
                "WITH RECURSIVE e AS ("
                "SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::bytea[]) "
                "WITH ORDINALITY AS e(originator_id, originator_version, topic, state, n)), "
                f"{_chain(events, 'e')}, "
                "inserted AS ("
                f"INSERT INTO {events} (originator_id, originator_version, topic, state, hash) "
                "SELECT e.originator_id, e.originator_version, e.topic, e.state, chain.hash "
                "FROM e JOIN chain USING (originator_id, originator_version) "
                "ORDER BY e.n "
                "RETURNING notification_id, originator_id, originator_version) "
                "SELECT array_agg(notification_id ORDER BY notification_id) AS ids, "
                f"{_notice('$5')} AS notified "
                "FROM inserted"
            ),
            insert_batch=insert_batch,
            append_function=function,
            # The batch in one round trip: called outside a transaction, the function's
            # statement is a transaction of its own, which takes the lock before it inserts.
            # The function's first form (before held versions) took six arguments: an overload
            # that nothing here calls, dropped so that the database holds one append function.
            create_append_function=(
                f"DROP FUNCTION IF EXISTS {function}(uuid[], bigint[], text[], bytea[], int[], text); "
                f"CREATE OR REPLACE FUNCTION {function}"
                "(uuid[], bigint[], text[], bytea[], int[], text, uuid[], bigint[], int[]) "
                "RETURNS TABLE (clashed int[], ids bigint[], notified text) "
                # Its statement planned once per connection, not again at every call while the
                # lock is held: its generic plan is the one any call's arrays would get (decision 117),
                # with the log's rows found by its keys (no sequential scan) even where the plan
                # was made while the log was nearly empty: made so, it read the whole log at every
                # append ever after, until the log was next analysed (decision 132).
                "LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off "
                "AS $body$\n"
                "#variable_conflict use_column\n"
                f"BEGIN LOCK TABLE {events} IN EXCLUSIVE MODE; "
                f"RETURN QUERY {insert_batch}; END $body$"
            ),
            call_append_function=f"SELECT clashed, ids FROM {function}($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            select_streams=(
                # Per stream: its latest snapshot after the version the reader has (if any), and
                # its events after both. Snapshot rows come first in each stream (kind 0).
                # Each stream's events are a LATERAL subquery with its own ORDER BY, which the
                # planner cannot fold into a join: one range scan of the primary key per stream,
                # whatever the log holds. As a plain join, a log with a few long streams gave
                # estimates of thousands of rows per stream, and the planner hashed the streams
                # asked for against a scan of the whole log (decision 123).
                "WITH s AS (SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS s(originator_id, gt)), "
                "snap AS ("
                "SELECT l.* FROM s CROSS JOIN LATERAL ("
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {snapshots} p WHERE p.originator_id = s.originator_id "
                "AND p.originator_version > s.gt AND $3::boolean "
                "ORDER BY p.originator_version DESC LIMIT 1) l) "
                "SELECT 0 AS kind, originator_id, originator_version, topic, state FROM snap "
                "UNION ALL "
                "SELECT 1, l.* FROM s LEFT JOIN snap ON snap.originator_id = s.originator_id "
                "CROSS JOIN LATERAL ("
                "SELECT e.originator_id, e.originator_version, e.topic, e.state "
                f"FROM {events} e WHERE e.originator_id = s.originator_id "
                "AND e.originator_version > greatest(s.gt, snap.originator_version) "
                "ORDER BY e.originator_version) l "
                "ORDER BY 2, 1, 3"
            ),
            select_stream=(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {events} WHERE originator_id = $1"
            ),
            select_notifications=(
                f"SELECT notification_id, originator_id, originator_version, topic, state FROM {events}"
            ),
            select_first_events=(
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {events} WHERE originator_id = ANY($1::uuid[]) AND originator_version = 1"
            ),
            max_notification_id=f"SELECT max(notification_id) FROM {events}",
            lock_tracking=("SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))"),
            insert_tracking=(
                f"INSERT INTO {tracking} (application_name, notification_id) "
                "SELECT $1::text, $2::bigint WHERE NOT EXISTS ("
                f"SELECT 1 FROM {tracking} "
                "WHERE application_name = $1::text AND notification_id >= $2::bigint)"
            ),
            max_tracking_id=(f"SELECT max(notification_id) FROM {tracking} WHERE application_name = $1"),
            has_tracking_id=(
                f"SELECT EXISTS (SELECT 1 FROM {tracking} "
                "WHERE application_name = $1 AND notification_id >= $2)"
            ),
            delete_tracking=f"DELETE FROM {tracking} WHERE application_name = $1",
            lock_trackings=(
                "SELECT count(pg_advisory_xact_lock(hashtextextended($1::text || '/' || n, 0)))"
                " FROM unnest($2::text[]) AS n"
            ),
            insert_trackings=(
                # The earlier positions of these applications go in the same statement: the
                # table keeps one row per application instead of one per batch. So do the
                # NOTIFYs that go with the positions (channels $3, payloads $4), sent at commit.
                # The rows replaced are those from each application's position as the caller read
                # it ($5, aligned with $1; 0 where not known) up: one index range from the lowest
                # of them, whatever plan is cached, not a walk over every row deleted before and
                # not yet vacuumed (decision 132).
                f"WITH earlier AS (DELETE FROM {tracking} t "
                "USING unnest($1::text[], $5::bigint[]) AS e (n, p) "
                "WHERE t.application_name = ANY($1::text[]) "
                "AND t.notification_id >= (SELECT min(m) FROM unnest($5::bigint[]) AS m) "
                "AND t.notification_id < $2::bigint "
                "AND t.application_name = e.n AND t.notification_id >= e.p), "
                f"inserted AS (INSERT INTO {tracking} (application_name, notification_id) "
                "SELECT n, $2::bigint FROM unnest($1::text[]) AS n WHERE NOT EXISTS ("
                f"SELECT 1 FROM {tracking} "
                "WHERE application_name = n AND notification_id >= $2::bigint) RETURNING 1) "
                "SELECT (SELECT count(*) FROM inserted), "
                "(SELECT count(pg_notify(c, p)) FROM unnest($3::text[], $4::text[]) AS x (c, p))"
            ),
            tracking_positions=(
                # One index lookup per name (positions written one at a time may keep several rows).
                f"SELECT n, (SELECT max(notification_id) FROM {tracking} WHERE application_name = n) "
                "FROM unnest($1::text[]) AS n"
            ),
            notifications_after_positions=(
                # After the lowest of the positions `t (n, p)` the statement has read; `$2` at most.
                "SELECT NULL::text, originator_id, notification_id, originator_version, topic, state"
                f" FROM {events} WHERE notification_id > (SELECT coalesce(min(coalesce(p, 0)), 0) FROM t)"
                " ORDER BY notification_id LIMIT $2"
            ),
        )
