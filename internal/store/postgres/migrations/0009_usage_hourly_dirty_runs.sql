-- 0009_usage_hourly_dirty_runs: one dirty row per run of hours, not per hour.
--
-- The ingest transaction wrote one usage_hourly_dirty row per (customer,
-- metric, hour) of its batch, and the worker deleted each. A batch that
-- spreads its records over many hours paid a row, an index entry and a
-- deletion for every few records. A row now covers a run of consecutive
-- hours [first_hour, last_hour] of one (customer, metric) in the batch;
-- a batch with a gap between its hours writes one row per run, so a
-- record resent from last month does not make the month in between dirty.
--
-- records and resources keep their meaning, summed over the run's hours
-- (resources counts each resource once per hour), and the drain spreads
-- them evenly over the hours for its hint.

DROP INDEX usage_hourly_dirty_idx;
ALTER TABLE usage_hourly_dirty RENAME COLUMN hour TO first_hour;
ALTER TABLE usage_hourly_dirty ADD COLUMN last_hour timestamptz;
UPDATE usage_hourly_dirty SET last_hour = first_hour;
ALTER TABLE usage_hourly_dirty
    ALTER COLUMN last_hour SET NOT NULL,
    ADD CHECK (last_hour >= first_hour);

-- billing looks up one customer's dirty runs; the worker takes them in this order
CREATE INDEX usage_hourly_dirty_idx ON usage_hourly_dirty (customer_id, metric_key, first_hour);

-- usage_hourly_drain takes up to n dirty rows (in index order), deletes
-- them and brings their hours up to date, in one statement: every record
-- committed with a deleted row is seen. Rows committed later stay, and
-- their hours are recomputed again. A run that its hint calls sparse and
-- that has no rolled-up hour needs nothing more (0008): it is not even
-- spread over its hours. The others are, and each of their hours is
-- recomputed unless its hint is sparse and it is not rolled up.
CREATE OR REPLACE FUNCTION usage_hourly_drain(n int)
RETURNS int LANGUAGE sql AS $fn$
    WITH d AS (
        DELETE FROM usage_hourly_dirty
        WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM usage_hourly_dirty ORDER BY customer_id, metric_key, first_hour LIMIT n))
        RETURNING customer_id, metric_key, first_hour, last_hour, records, resources,
            extract(epoch FROM last_hour - first_hour) / 3600 + 1 AS hours
    ), e AS ( -- the runs that may hold a dense or a rolled-up hour, spread over their hours
        SELECT d.customer_id, d.metric_key, x.hour, d.records / d.hours AS records, d.resources / d.hours AS resources
        FROM d CROSS JOIN LATERAL generate_series(d.first_hour, d.last_hour, interval '1 hour') AS x(hour)
        WHERE d.records >= 2 * d.resources OR EXISTS (
            SELECT 1 FROM usage_hourly_rolled u
            WHERE u.customer_id = d.customer_id AND u.metric_key = d.metric_key AND u.hour >= d.first_hour AND u.hour <= d.last_hour)
    ), h AS MATERIALIZED (
        SELECT e.customer_id, e.metric_key, e.hour,
               sum(e.records) < 2 * sum(e.resources) AND NOT EXISTS (
                   SELECT 1 FROM usage_hourly_rolled u WHERE u.customer_id = e.customer_id AND u.metric_key = e.metric_key AND u.hour = e.hour
               ) AS sparse
        FROM e GROUP BY e.customer_id, e.metric_key, e.hour
    ), r AS (
        SELECT usage_hourly_recompute(array_agg(customer_id), array_agg(metric_key), array_agg(hour)) AS rows
        FROM h WHERE NOT sparse
    )
    SELECT (SELECT count(*) FROM d)::int FROM r -- FROM r: a CTE that is not read is not run
$fn$;
