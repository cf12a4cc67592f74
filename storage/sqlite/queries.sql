-- Every statement the SQLite store runs, by name (``storage.sqlite.queries``).
-- Instants are fixed-width UTC text (see schema.sql), so text order is time order.
-- A list of values is bound as one JSON array and read with json_each, so every
-- statement is fixed text whatever the list's length; except in the dispatcher's two
-- reads, where a list mark stands for one placeholder per value (``queries.with_list``).

-- name: insert_custody
-- Every column: a custody is stored as given (closed ones too: data sets, imports).
INSERT INTO custodies (id, facility_id, booking, warrant_form,
        warrant_number, arrested_at, deadline, counting_rule, counting_rule_version,
        counting_hours, holiday_region, logged_by, logged_at, state, coverage_warning,
        closed_at, closed_by, close_reason, acknowledged_at, acknowledged_by, disputed_at,
        disputed_by, dispute_note, corrected_from, received_by, custody_taken_at, a_number)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: insert_notice
-- Inserted in the order given, so seq (the autoincrement key) orders each channel's
-- notices; a new notice never becomes ready before an earlier one of its channel that
-- is waiting to be retried (only those: not behind ones that are merely due later).
INSERT INTO notices (id, custody_id, kind, channel, due_at, lead_seconds,
        state, attempts, next_attempt_at, ready_at, level, round, detail, target_kind)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, max(?10, coalesce(
        (SELECT max(ready_at) FROM notices
         WHERE custody_id = ?2 AND channel = ?4 AND state = 'pending'
           AND next_attempt_at IS NOT NULL), ?10)),
        ?11, ?12, ?13, ?14)

-- name: insert_audit
-- The id is the event's number in the chain, given by the store (bot.core.audit_chain).
INSERT INTO audit_log (id, at, actor, action, custody_id, detail, source, facility_id,
        request_id, values_before, values_after, personal_digest, prev_hash, hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)

-- name: insert_audit_personal
INSERT INTO audit_personal (event_id, salt, personal) VALUES (?, ?, ?)

-- name: audit_tip
-- The last event of the chain: the next one follows it.
SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1

-- name: open_custodies_by_booking
SELECT * FROM custodies WHERE state = 'open'
    AND booking IN (SELECT value FROM json_each(?))

-- name: close_custody
-- The condition on state makes this a compare-and-set: of two closures, the first wins.
UPDATE custodies SET state = ?, closed_at = ?, closed_by = ?, close_reason = ?,
        received_by = ?, custody_taken_at = ?
    WHERE id = ? AND state = 'open'

-- name: correct_custody
-- A new arrest time or counting rule, and the deadline counted from them. A compare-and-set
-- on the arrest time, deadline and rule the caller read: of two corrections, the first wins.
-- corrected_from keeps the arrest time before the last correction that moved it.
UPDATE custodies SET
        corrected_from = CASE WHEN arrested_at = ?1 THEN corrected_from ELSE arrested_at END,
        arrested_at = ?1, deadline = ?2, counting_rule = ?3, counting_rule_version = ?4,
        counting_hours = ?5, holiday_region = ?6
    WHERE id = ?7 AND state = 'open' AND arrested_at = ?8 AND deadline = ?9
      AND counting_rule = ?10 AND counting_rule_version = ?11 AND counting_hours = ?12
      AND holiday_region IS ?13

-- name: dispute_custody
UPDATE custodies SET disputed_at = ?, disputed_by = ?, dispute_note = ?
    WHERE id = ? AND state = 'open' AND disputed_at IS NULL

-- name: cancel_notices_of_closed_custody
UPDATE notices SET state = 'cancelled'
    WHERE custody_id = ? AND state = 'pending'
      AND kind IN ('reminder', 'expired', 'page_step', 'escalation', 'backup')

-- name: custody_by_id
SELECT * FROM custodies WHERE id = ?

-- name: custodies_by_booking
-- ?2: a JSON array of facility ids, or NULL for every facility; ?3: 1 for open ones only.
SELECT * FROM custodies WHERE booking = ?1
    AND (?2 IS NULL OR facility_id IN (SELECT value FROM json_each(?2)))
    AND (?3 = 0 OR state = 'open')
    ORDER BY logged_at DESC, rowid DESC

-- name: open_custodies_by_deadline
SELECT * FROM custodies WHERE state = 'open'
    AND (?1 IS NULL OR facility_id IN (SELECT value FROM json_each(?1)))
    ORDER BY deadline, booking LIMIT ?2

-- name: closed_custodies_since
SELECT * FROM custodies WHERE state != 'open' AND closed_at >= ?2
    AND (?1 IS NULL OR facility_id IN (SELECT value FROM json_each(?1)))
    ORDER BY closed_at DESC, booking LIMIT ?3

-- name: count_open_custodies
SELECT count(*) AS n FROM custodies WHERE state = 'open'
    AND (?1 IS NULL OR facility_id IN (SELECT value FROM json_each(?1)))

-- name: scheduled_backups
SELECT n.* FROM notices n JOIN custodies c ON c.id = n.custody_id
    WHERE n.kind = 'backup' AND n.state = 'sent' AND n.message_ts IS NOT NULL
    ORDER BY n.seq

-- name: skip_superseded_reminders
-- The fast path of bot.core.notice_plan's rule (a contract test holds them together):
-- a due expiry supersedes every reminder of its custody and channel, a due reminder the
-- ones before it (by due time, then plan order). One an earlier attempt may have posted
-- is left to the dispatcher, which looks for it in Slack before deciding.
UPDATE notices SET state = 'skipped', last_error = 'superseded'
    WHERE state = 'pending' AND kind = 'reminder' AND ready_at <= ?1
      AND may_have_posted = 0
      AND EXISTS (
          SELECT 1 FROM notices later
          WHERE later.custody_id = notices.custody_id
            AND later.channel = notices.channel
            AND later.state = 'pending'
            AND later.due_at <= ?1
            AND (later.kind = 'expired'
                 OR (later.kind = 'reminder'
                     AND (later.due_at, later.seq) > (notices.due_at, notices.seq))))
    RETURNING id

-- name: ready_notices
-- The dispatcher's reads pass, in the index, every ready notice of a held channel (a
-- burst's backlog: 100k+), so the exclusion is a list of placeholders (see
-- queries.with_list): json_each's lookup costs ~18% more per notice passed.
SELECT * FROM notices WHERE state = 'pending' AND ready_at <= ?
    AND channel NOT IN (?...)
    ORDER BY ready_at, seq LIMIT ?

-- name: next_ready_at
-- ORDER BY … LIMIT 1 stops at the first match in the index; min() would read it all.
-- The exclusion as in ready_notices.
SELECT ready_at FROM notices WHERE state = 'pending'
    AND channel NOT IN (?...)
    ORDER BY ready_at LIMIT 1

-- name: oldest_overdue_due_at
SELECT min(due_at) AS due_at FROM notices
    WHERE state IN ('pending', 'sending') AND due_at <= ?
      AND kind NOT IN ('backup', 'backup_delete')

-- name: count_failing_notices
-- ?1: a JSON array of error codes; ?2: a JSON array of error prefixes.
SELECT count(*) AS n FROM notices
    WHERE state = 'pending' AND last_error IS NOT NULL
      AND (last_error IN (SELECT value FROM json_each(?1))
           OR EXISTS (SELECT 1 FROM json_each(?2) AS prefix
                      WHERE notices.last_error LIKE prefix.value || '%'))

-- name: count_unsent_due
SELECT count(*) AS n FROM notices
    WHERE state IN ('pending', 'sending') AND due_at <= ?

-- name: notices_in_flight
SELECT * FROM notices WHERE state = 'sending' ORDER BY seq

-- name: notices_of_custody
SELECT * FROM notices WHERE custody_id = ? ORDER BY seq

-- name: notices_by_state
-- ?1: a JSON array of states.
SELECT * FROM notices WHERE state IN (SELECT value FROM json_each(?1)) ORDER BY seq

-- name: mark_sending
UPDATE notices SET state = 'sending', attempted_at = ?, attempts = attempts + 1
    WHERE id = ? AND state = 'pending'

-- name: mark_sent
UPDATE notices SET state = 'sent', sent_at = ?, message_ts = ?,
        message_channel = ?, next_attempt_at = NULL, may_have_posted = 0,
        last_error = CASE WHEN state IN ('skipped', 'cancelled')
                          THEN NULL ELSE last_error END
    WHERE id = ? AND state != 'sent'
    RETURNING id

-- name: unsent_notice_place
SELECT custody_id, channel, seq, last_error FROM notices
    WHERE id = ? AND state IN ('pending', 'sending')

-- name: mark_failed
UPDATE notices SET state = 'pending', last_error = ?, next_attempt_at = ?,
        ready_at = max(due_at, ?), may_have_posted = ?,
        attempts = max(attempts, coalesce(?, 0))
    WHERE id = ?

-- name: hold_back_later_notices
UPDATE notices SET ready_at = max(ready_at, ?)
    WHERE custody_id = ? AND channel = ? AND seq > ? AND state = 'pending'

-- name: mark_pending
UPDATE notices SET state = 'pending', may_have_posted = ?
    WHERE id = ? AND state = 'sending'

-- name: skip_notices
-- ?2: a JSON array of notice ids.
UPDATE notices SET state = 'skipped', last_error = ?1
    WHERE id IN (SELECT value FROM json_each(?2)) AND state = 'pending'
    RETURNING id

-- name: defer_notices
-- ?2: a JSON array of notice ids.
UPDATE notices SET next_attempt_at = ?1, ready_at = max(due_at, ?1)
    WHERE id IN (SELECT value FROM json_each(?2)) AND state = 'pending'
      AND ready_at < ?1

-- name: bring_forward
UPDATE notices SET due_at = ?1, ready_at = max(?1, coalesce(next_attempt_at, ?1))
    WHERE custody_id = ?2 AND kind = ?3 AND state = 'pending' AND due_at > ?1
      AND (?4 IS NULL OR channel = ?4)

-- name: mark_step_expanded
UPDATE notices SET state = 'sent', sent_at = ?, next_attempt_at = NULL
    WHERE id = ? AND state IN ('pending', 'sending')

-- name: acknowledge_custody
-- The condition on acknowledged_at makes this a compare-and-set: of two
-- acknowledgements that read the same custody, only the first changes it.
UPDATE custodies SET acknowledged_at = ?, acknowledged_by = ?
    WHERE id = ? AND state = 'open' AND acknowledged_at IS ?

-- name: cancel_pages_and_steps
-- ?2: a JSON array of the chain steps to cancel.
UPDATE notices SET state = 'cancelled'
    WHERE custody_id = ?1 AND state = 'pending'
      AND (kind = 'escalation' OR id IN (SELECT value FROM json_each(?2)))

-- name: insert_oncall_override
INSERT INTO oncall_overrides (schedule_id, user_id, starts_at, ends_at, created_by, created_at)
    VALUES (?, ?, ?, ?, ?, ?)

-- name: oncall_overrides
SELECT * FROM oncall_overrides WHERE schedule_id = ? AND ends_at > ?
    ORDER BY starts_at, id

-- name: oncall_override_by_id
SELECT * FROM oncall_overrides WHERE id = ? AND ends_at > ?

-- name: end_oncall_override
UPDATE oncall_overrides SET ends_at = ?1 WHERE id = ?2 AND ends_at > ?1

-- name: audit_trail
SELECT audit_log.*, audit_personal.salt, audit_personal.personal FROM audit_log
    LEFT JOIN audit_personal ON audit_personal.event_id = audit_log.id
    WHERE custody_id = ? ORDER BY id

-- name: audit_events
-- The whole chain in order, each event with its personal part (if not purged).
SELECT audit_log.*, audit_personal.salt, audit_personal.personal FROM audit_log
    LEFT JOIN audit_personal ON audit_personal.event_id = audit_log.id
    ORDER BY audit_log.id

-- name: notice_audit_facts
-- ?1: a JSON array of notice ids; ?2: a JSON array of the kinds to record.
SELECT notices.id, notices.kind, notices.channel, notices.custody_id, notices.attempts,
        notices.level, notices.last_error, custodies.facility_id, custodies.booking
    FROM notices LEFT JOIN custodies ON custodies.id = notices.custody_id
    WHERE notices.id IN (SELECT value FROM json_each(?1))
      AND notices.kind IN (SELECT value FROM json_each(?2))
    ORDER BY notices.seq

-- name: legacy_audit_events
-- Schema version 8: the events written before the chain, oldest first, with the facility
-- of their custody (they did not record it).
SELECT audit_log.*, custodies.facility_id AS custody_facility FROM audit_log
    LEFT JOIN custodies ON custodies.id = audit_log.custody_id
    WHERE audit_log.hash IS NULL ORDER BY audit_log.id

-- name: chain_legacy_audit_event
-- Schema version 8 only, before the triggers that forbid it exist: an event written
-- before the chain gets its hashes, and its personal values move to audit_personal.
UPDATE audit_log SET detail = ?, facility_id = ?, personal_digest = ?, prev_hash = ?,
        hash = ?
    WHERE id = ?

-- name: purge_audit_personal
-- ?1: custodies closed before this instant lose their events' personal parts.
DELETE FROM audit_personal WHERE event_id IN (
    SELECT audit_log.id FROM audit_log JOIN custodies ON custodies.id = audit_log.custody_id
    WHERE custodies.state != 'open' AND custodies.closed_at < ?1)

-- name: count_closed_before
SELECT count(*) AS n FROM custodies WHERE state != 'open' AND closed_at < ?1

-- name: erase_custody_field
-- {column} is a custodies column named in bot.core.audit_chain.PERSONAL_FIELDS (the
-- store checks it is one of the table's columns); never text from outside.
UPDATE custodies SET {column} = NULL
    WHERE state != 'open' AND closed_at < ?1 AND {column} IS NOT NULL

-- name: erase_notice_detail_field
-- ?2: a key of PERSONAL_FIELDS, removed from the details of the notices of custodies
-- closed before ?1 (a note's text, a dispute's note).
UPDATE notices SET detail = json_remove(detail, '$.' || ?2)
    WHERE detail IS NOT NULL AND json_type(detail, '$.' || ?2) IS NOT NULL
      AND custody_id IN (SELECT id FROM custodies WHERE state != 'open' AND closed_at < ?1)

-- name: table_exists
SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?

-- name: schema_version
SELECT version FROM schema_version

-- name: clear_schema_version
DELETE FROM schema_version

-- name: insert_schema_version
INSERT INTO schema_version (version) VALUES (?)

-- name: backfill_target_kind
-- Schema version 3: the kind of each stored target, as bot.core.targets.target_kind
-- reads its address (a contract test checks the two agree on every spelling).
-- substr, not LIKE: LIKE ignores case, the codec does not.
UPDATE notices SET target_kind = CASE
        WHEN channel IN ('escalation', 'ice_escalation') THEN 'chain_step'
        WHEN substr(channel, 1, 7) = 'backup:' THEN 'slack_backup'
        WHEN substr(channel, 1, 5) = 'card:' THEN 'card'
        WHEN substr(channel, 1, 7) = 'update:' THEN 'page_update'
        WHEN channel = 'pagerduty' THEN 'pagerduty'
        WHEN substr(channel, 1, 8) = 'webhook:' THEN 'webhook'
        WHEN substr(channel, 1, 1) IN ('U', 'W') THEN 'direct_message'
        ELSE 'channel'
    END
    WHERE target_kind IS NULL

-- name: custodies_of_facility
SELECT * FROM custodies WHERE facility_id = ? ORDER BY logged_at, rowid

-- name: custodies_by_arrest_page
-- Oversight exports: one page of custodies arrested in [?1, ?2), after the last one
-- read (?3, ?4: its arrest time and id; '' for the first page), in the order of the
-- custodies_by_arrest index, so each page starts where the last stopped.
SELECT * FROM custodies
    WHERE arrested_at >= ?1 AND arrested_at < ?2 AND (arrested_at, id) > (?3, ?4)
    ORDER BY arrested_at, id LIMIT ?5

-- name: insert_certification_reminder
-- A second reminder for one officer and expiry date is ignored: the first stands.
INSERT INTO certification_reminders (id, user_id, expires_on, facility_id, channel, due_at, state)
    VALUES (?, ?, ?, ?, ?, ?, 'pending')
    ON CONFLICT DO NOTHING

-- name: certification_reminder_keys
SELECT user_id, expires_on FROM certification_reminders

-- name: unsent_certification_reminders
SELECT * FROM certification_reminders WHERE state IN ('pending', 'sending') ORDER BY due_at, id

-- name: mark_certification_reminder_sending
UPDATE certification_reminders SET state = 'sending', attempted_at = ?, attempts = attempts + 1
    WHERE id = ? AND state != 'sent'

-- name: mark_certification_reminder_sent
UPDATE certification_reminders SET state = 'sent', sent_at = ?, message_ts = ?,
        next_attempt_at = NULL, may_have_posted = 0
    WHERE id = ? AND state != 'sent'

-- name: mark_certification_reminder_skipped
UPDATE certification_reminders SET state = 'skipped', last_error = ?
    WHERE id = ? AND state IN ('pending', 'sending')

-- name: mark_certification_reminder_failed
UPDATE certification_reminders SET state = 'pending', last_error = ?, next_attempt_at = ?,
        may_have_posted = max(may_have_posted, ?)
    WHERE id = ? AND state != 'sent'

-- name: count_rows_of_facility
-- Benchmarks: what logging the facility's arrests stored, table by table (an event's
-- personal part is a row of its own, in audit_personal).
SELECT
    (SELECT count(*) FROM custodies WHERE facility_id = ?1) AS custodies,
    (SELECT count(*) FROM notices
        WHERE custody_id IN (SELECT id FROM custodies WHERE facility_id = ?1)) AS notices,
    (SELECT count(*) FROM audit_log
        WHERE custody_id IN (SELECT id FROM custodies WHERE facility_id = ?1)) AS audit_entries,
    (SELECT count(*) FROM audit_personal
        WHERE event_id IN (SELECT id FROM audit_log WHERE custody_id IN
            (SELECT id FROM custodies WHERE facility_id = ?1))) AS audit_personal
