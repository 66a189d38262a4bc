-- 0002_usage: raw usage records and the idempotency keys that make ingestion
-- exactly-once.
--
-- usage_records is partitioned by month of start_time (usage_records_YYYY_MM,
-- created on demand by the store before it inserts into a month) so old
-- months can be detached and archived. There is deliberately no DEFAULT
-- partition: rows in it would block creating the month they belong to.
--
-- A partitioned table cannot have a unique index without the partition key,
-- so the idempotency key is unique in usage_keys instead: the store inserts
-- each batch's keys there with ON CONFLICT DO NOTHING and stores only the
-- records whose key that insert returned, in the same transaction. Two
-- replicas racing on one key serialise on the key's index entry: the second
-- waits for the first to commit and then skips the key.

-- one row per idempotency key ever accepted; the dedupe authority across partitions and replicas
CREATE TABLE usage_keys (
    idempotency_key text COLLATE "C" PRIMARY KEY,
    receive_time    timestamptz NOT NULL
);

CREATE TABLE usage_records (
    idempotency_key text COLLATE "C" NOT NULL,
    customer_id     text COLLATE "C" NOT NULL,
    metric_key      text COLLATE "C" NOT NULL,
    quantity        numeric NOT NULL,
    start_time      timestamptz NOT NULL,  -- the record's time, or the start of [start, end)
    end_time        timestamptz NOT NULL,  -- = start_time for a point record (sample or event)
    resource_id     text NOT NULL DEFAULT '',
    organisation_id text NOT NULL DEFAULT '',
    vdc_id          text NOT NULL DEFAULT '',
    site            text NOT NULL DEFAULT '',
    source          text NOT NULL DEFAULT '',
    dimensions      jsonb NOT NULL DEFAULT '{}',
    receive_time    timestamptz NOT NULL
) PARTITION BY RANGE (start_time);

-- billing reads one customer's metric over a period
CREATE INDEX ON usage_records (customer_id, metric_key, start_time);
