-- WSO Custody Clock schema (SQLite). All instants are UTC, stored as
-- ISO-8601 text "YYYY-MM-DDTHH:MM:SS.ffffffZ" so that text order is time order.

CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS custodies (
    -- counting_rule (its name), counting_rule_version, counting_hours and holiday_region:
    -- the counting rule that computed the deadline (the last three from schema version 5:
    -- custodies stored before are elapsed-48h v1, 48 hours, as their defaults say).
    id             TEXT PRIMARY KEY,
    facility_id    TEXT NOT NULL,
    booking        TEXT NOT NULL,
    warrant_form   TEXT,
    warrant_number TEXT,
    arrested_at    TEXT NOT NULL,
    deadline       TEXT NOT NULL,
    counting_rule  TEXT NOT NULL,
    logged_by      TEXT NOT NULL,
    logged_at      TEXT NOT NULL,
    state          TEXT NOT NULL
                   CHECK (state IN ('open', 'transferred', 'released', 'igsa', 'voided')),
    closed_at      TEXT,
    closed_by      TEXT,
    close_reason   TEXT,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    coverage_warning TEXT,
    -- from schema version 4: a dispute flag, the arrest time before a correction, a transfer's facts
    disputed_at    TEXT,
    disputed_by    TEXT,
    dispute_note   TEXT,
    corrected_from TEXT,
    received_by    TEXT,
    custody_taken_at TEXT,
    counting_rule_version INTEGER NOT NULL DEFAULT 1,
    counting_hours INTEGER NOT NULL DEFAULT 48,
    holiday_region TEXT,
    -- from schema version 6: the optional A-number, 'A' and 9 digits (personal data)
    a_number       TEXT
);

-- At most one open custody per booking and facility: duplicates are refused by the database itself.
CREATE UNIQUE INDEX IF NOT EXISTS custodies_one_open_per_booking
    ON custodies (facility_id, booking) WHERE state = 'open';
CREATE INDEX IF NOT EXISTS custodies_by_booking ON custodies (booking, logged_at);
CREATE INDEX IF NOT EXISTS custodies_open_by_deadline ON custodies (deadline) WHERE state = 'open';
-- Oversight exports and reports read custodies by arrest time, a page at a time.
CREATE INDEX IF NOT EXISTS custodies_by_arrest ON custodies (arrested_at, id);

CREATE TABLE IF NOT EXISTS notices (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    custody_id      TEXT NOT NULL REFERENCES custodies (id),
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    lead_seconds    INTEGER,
    state           TEXT NOT NULL
                    CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    -- later of due_at and next_attempt_at, kept by the store: the dispatcher's sort key.
    ready_at        TEXT NOT NULL,
    attempted_at    TEXT,
    sent_at         TEXT,
    message_ts      TEXT,
    last_error      TEXT,
    -- 1 when an earlier attempt may have reached Slack (timeout, 5xx, crash mid-send):
    -- the next attempt looks for the notice in channel history before posting again.
    may_have_posted INTEGER NOT NULL DEFAULT 0,
    level           INTEGER,
    round           INTEGER,
    message_channel TEXT,
    -- facts a notice needs at send time beyond its custody (e.g. which delivery failed)
    detail          TEXT,
    -- what channel names (bot.core.targets.TargetKind): set on insert, from schema version 3
    target_kind     TEXT
);

-- The dispatcher's hot queries: pending notices by the time they become ready.
-- The channel rides along so busy or congested channels are skipped inside the index.
DROP INDEX IF EXISTS notices_pending_by_ready;
CREATE INDEX IF NOT EXISTS notices_pending_by_ready_channel
    ON notices (ready_at, seq, channel) WHERE state = 'pending';
-- Health: notices stuck on an error (a handful), without reading every pending notice.
CREATE INDEX IF NOT EXISTS notices_pending_failing
    ON notices (last_error) WHERE state = 'pending' AND last_error IS NOT NULL;
-- Catch-up: the superseded-reminder sweep reads only reminders, not a backlog of others.
CREATE INDEX IF NOT EXISTS notices_pending_reminders
    ON notices (ready_at) WHERE state = 'pending' AND kind = 'reminder';
CREATE INDEX IF NOT EXISTS notices_in_flight ON notices (state) WHERE state = 'sending';
-- Health: how long the oldest unsent, due notice has waited (retries included).
CREATE INDEX IF NOT EXISTS notices_unsent_by_due
    ON notices (due_at) WHERE state IN ('pending', 'sending');
CREATE INDEX IF NOT EXISTS notices_by_custody ON notices (custody_id, channel, seq);

-- The audit log, a hash chain (bot.core.audit_chain, README "Audit chain"): rows are
-- only ever inserted; id is the event's number (seq), and each row's hash covers the
-- previous row's. The JSON columns hold canonical JSON of the public values.
CREATE TABLE IF NOT EXISTS audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    custody_id TEXT,
    detail     TEXT NOT NULL DEFAULT '{}',
    -- from schema version 8 (NULL in events written before it: the chain began then)
    source          TEXT,
    facility_id     TEXT,
    request_id      TEXT,
    values_before   TEXT NOT NULL DEFAULT '{}',
    values_after    TEXT NOT NULL DEFAULT '{}',
    personal_digest TEXT,
    prev_hash       TEXT,
    hash            TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_custody ON audit_log (custody_id, id);
-- Nothing in the bot changes or removes an audit row: the database refuses it too.
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are never changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are never deleted');
END;

-- An event's personal values and their salt, apart from the chain so that a purge can
-- delete them; the event keeps personal_digest = sha256(salt + personal).
CREATE TABLE IF NOT EXISTS audit_personal (
    event_id INTEGER PRIMARY KEY REFERENCES audit_log (id),
    salt     TEXT NOT NULL,
    personal TEXT NOT NULL
);

-- "/wso oncall override": someone covers a schedule for a while.
CREATE TABLE IF NOT EXISTS oncall_overrides (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oncall_overrides_by_schedule ON oncall_overrides (schedule_id, ends_at);

-- Reminders that an officer's WSO certification is about to expire (from schema version 7):
-- one per officer and expiry date, whatever restarts and roster reloads happen.
CREATE TABLE IF NOT EXISTS certification_reminders (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    expires_on      TEXT NOT NULL,  -- YYYY-MM-DD, the certification's last valid day
    facility_id     TEXT NOT NULL,
    channel         TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    attempted_at    TEXT,
    sent_at         TEXT,
    message_ts      TEXT,
    last_error      TEXT,
    may_have_posted INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, expires_on)
);
