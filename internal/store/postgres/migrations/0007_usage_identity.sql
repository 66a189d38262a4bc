-- 0007_usage_identity: one table and one index per stored record.
--
-- Until now a record cost two inserts and two index entries: its key in
-- usage_keys (the dedupe authority, unique on the key alone, since a
-- partitioned table cannot have a unique index without the partition key)
-- and the record in usage_records with its billing index. Measured on the
-- ingest path, usage_keys was about a third of PostgreSQL's work per record.
--
-- A record is now identified by (customer, metric, start time, idempotency
-- key), and that is the unique index billing reads by its prefix. A
-- resend is the same record, so it is still a duplicate however often and
-- through whichever replica it comes; two different records that happen to
-- share a key (another customer, metric or time) are both stored, as Lago's
-- event store deduplicates on (subscription, code, timestamp, transaction
-- id). It also closes a hole: a collector allowed to send for one customer
-- could claim another customer's key in advance and make the real record a
-- "duplicate"; keys now only collide within the same customer, metric and
-- time.
--
-- The unique index includes start_time, the partition key, so PostgreSQL
-- enforces it per monthly partition, which is exact: two records with one
-- identity have one start time and so one partition.

CREATE UNIQUE INDEX usage_records_identity
    ON usage_records (customer_id, metric_key, start_time, idempotency_key);
DROP INDEX usage_records_customer_id_metric_key_start_time_idx;
DROP TABLE usage_keys;

-- usage_late names the records inserted after a month was closed by the
-- same identity.
ALTER TABLE usage_late
    ADD COLUMN metric_key text COLLATE "C",
    ADD COLUMN start_time timestamptz;
UPDATE usage_late l SET metric_key = r.metric_key, start_time = r.start_time
FROM closed_periods p, usage_records r
WHERE p.id = l.period_id AND r.customer_id = p.customer_id AND r.idempotency_key = l.idempotency_key;
DELETE FROM usage_late WHERE metric_key IS NULL; -- its record's month was detached
ALTER TABLE usage_late
    ALTER COLUMN metric_key SET NOT NULL,
    ALTER COLUMN start_time SET NOT NULL,
    DROP CONSTRAINT usage_late_pkey,
    ADD PRIMARY KEY (period_id, metric_key, start_time, idempotency_key);

CREATE OR REPLACE FUNCTION usage_mark_late() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- most deployments close few months: skip the join when none can match
    IF EXISTS (SELECT 1 FROM closed_periods) THEN
        INSERT INTO usage_late (period_id, metric_key, start_time, idempotency_key)
        SELECT p.id, n.metric_key, n.start_time, n.idempotency_key
        FROM new_records n
        JOIN closed_periods p ON p.customer_id = n.customer_id
            AND n.start_time >= p.start_time - interval '40 days' AND n.start_time < p.end_time
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$fn$;
