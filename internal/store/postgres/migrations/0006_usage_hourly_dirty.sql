-- 0006_usage_hourly_dirty: hourly rollups maintained off the ingest path.
--
-- Recomputing the touched series-hours inside every ingest transaction
-- (0004) cost about three times the ingestion itself, and recomputed a busy
-- hour again for every batch that reached it. Now the ingest transaction
-- only appends, for each (customer, metric, UTC hour) its records start in,
-- one row to usage_hourly_dirty (no unique index: appending never waits for
-- another writer). A worker in each billingd replica drains the log with
-- usage_hourly_drain, which deletes the rows of some hours and recomputes
-- those hours' rollups in one statement, so in one snapshot: every record
-- committed with a deleted row is in the recomputation. Rows committed
-- later stay, and their hour is recomputed again.
--
-- Billing reads the rollups of clean hours and the raw records of the
-- hours that have a row in the log, in one statement (one snapshot): an
-- hour is either dirty, or its rollups hold every record committed before
-- the snapshot. Results are exact at every moment, before and after the
-- worker has caught up.
--
-- Workers of several replicas take turns through an advisory lock (see
-- usage_rollup.go), so no two recompute one hour with different snapshots.
-- usage_hourly_refresh (0004) stays, for tools that write usage_records
-- directly and refresh their rollups themselves, but not beside running
-- workers: a drain that read before such a refresh committed overwrites it.
-- For the same reason replicas of the version before this migration (which
-- refresh in the ingest transaction) must be stopped before this one runs.

CREATE TABLE usage_hourly_dirty (
    customer_id text COLLATE "C" NOT NULL,
    metric_key  text COLLATE "C" NOT NULL,
    hour        timestamptz NOT NULL,
    -- of the hour in this batch: a hint for the drain (see below)
    records     integer NOT NULL DEFAULT 1,
    resources   integer NOT NULL DEFAULT 1
);

-- billing looks up one customer's dirty hours; the worker deletes by key
CREATE INDEX usage_hourly_dirty_idx ON usage_hourly_dirty (customer_id, metric_key, hour);

-- An hour of a (customer, metric) whose resources have fewer than two
-- records each on average is not rolled up: its rollup rows (one per
-- series, and a resource has one or more) would be about as many as its
-- records, and wider, so writing them costs more than the records did and
-- reading them saves nothing. Such an hour gets a row in usage_hourly_raw
-- instead, and billing reads its records, as for a dirty hour. Late records
-- can make it dense (rolled up, the mark removed) or, with new resources,
-- sparse again (rollup rows removed, marked). Which hours are rolled up
-- only decides speed, never results: billing is exact either way. Counting
-- resources rather than series (resource, organisation, VDC, site,
-- dimensions) halves the cost of the decision.
CREATE TABLE usage_hourly_raw (
    customer_id text COLLATE "C" NOT NULL,
    metric_key  text COLLATE "C" NOT NULL,
    hour        timestamptz NOT NULL,
    PRIMARY KEY (customer_id, metric_key, hour)
);

-- usage_hourly_recompute brings the given (customer, metric, hour)s up to
-- date with usage_records: the rollups of every series of a dense hour,
-- the mark of a sparse one. It returns the hours it recomputed.
CREATE FUNCTION usage_hourly_recompute(c text[], m text[], h timestamptz[])
RETURNS bigint LANGUAGE sql AS $fn$
    WITH t AS (
        SELECT DISTINCT t.c, t.m, t.h FROM unnest(c, m, h) AS t(c, m, h)
    ), r AS MATERIALIZED (
        SELECT t.c AS customer_id, t.m AS metric_key, t.h AS hour, r.resource_id, r.organisation_id,
               r.vdc_id, r.site, r.dimensions, r.quantity, r.start_time, r.end_time, r.receive_time,
               r.end_time <= t.h + interval '1 hour' AS inside, r.end_time = r.start_time AS point
        FROM t CROSS JOIN LATERAL (
            SELECT r.resource_id, r.organisation_id, r.vdc_id, r.site, r.dimensions,
                   r.quantity, r.start_time, r.end_time, r.receive_time
            FROM usage_records r
            WHERE r.customer_id = t.c AND r.metric_key = t.m
              AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
            OFFSET 0 -- an index range scan per hour, whatever the partition's size
        ) r
    ), density AS MATERIALIZED ( -- records and resources per hour, by two hash aggregations (no sort per group)
        SELECT customer_id, metric_key, hour, sum(n) >= 2 * count(*) AS dense
        FROM (SELECT customer_id, metric_key, hour, count(*) AS n FROM r GROUP BY customer_id, metric_key, hour, resource_id) s
        GROUP BY customer_id, metric_key, hour
    ), x AS ( -- eff: the effective point sample of its instant (received last, the larger on a tie)
        SELECT r.*, point AND row_number() OVER (
                   PARTITION BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions, point, start_time
                   ORDER BY receive_time DESC, quantity DESC) = 1 AS eff
        FROM r
        WHERE EXISTS (SELECT 1 FROM density d WHERE d.dense AND d.customer_id = r.customer_id AND d.metric_key = r.metric_key AND d.hour = r.hour)
    ), y AS ( -- next_at: the next effective sample in the hour
        SELECT x.*, CASE WHEN eff THEN lead(start_time) OVER (
                   PARTITION BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions, eff
                   ORDER BY start_time) END AS next_at
        FROM x
    ), agg AS (
        SELECT customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions,
               count(*) AS records,
               sum(quantity) FILTER (WHERE inside) AS sum,
               sum(quantity * (extract(epoch FROM end_time) - extract(epoch FROM start_time))) FILTER (WHERE inside AND NOT point) AS integral,
               max(quantity) FILTER (WHERE inside AND NOT point) AS max,
               (array_agg(start_time ORDER BY start_time DESC, quantity DESC) FILTER (WHERE inside AND NOT point))[1] AS last_start,
               (array_agg(quantity ORDER BY start_time DESC, quantity DESC) FILTER (WHERE inside AND NOT point))[1] AS last_value,
               min(start_time) FILTER (WHERE eff) AS first_at,
               sum(quantity * (extract(epoch FROM next_at) - extract(epoch FROM start_time))) FILTER (WHERE eff AND next_at IS NOT NULL) AS inner_integral,
               max(quantity) FILTER (WHERE eff AND next_at IS NOT NULL) AS inner_max,
               max(start_time) FILTER (WHERE eff) AS last_at,
               (array_agg(quantity) FILTER (WHERE eff AND next_at IS NULL))[1] AS last_sample,
               array_agg(start_time ORDER BY start_time, end_time, quantity) FILTER (WHERE NOT inside) AS span_start,
               array_agg(end_time ORDER BY start_time, end_time, quantity) FILTER (WHERE NOT inside) AS span_end,
               array_agg(quantity ORDER BY start_time, end_time, quantity) FILTER (WHERE NOT inside) AS span_quantity,
               max(end_time) FILTER (WHERE NOT inside) AS span_end_max
        FROM y GROUP BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions
    ), w AS (
        INSERT INTO usage_hourly AS u (customer_id, metric_key, hour, series_key, resource_id, organisation_id, vdc_id, site, dimensions,
            records, sum, integral, max, last_start, last_value, first_at, inner_integral, inner_max, last_at, last_sample,
            span_start, span_end, span_quantity, span_end_max)
        SELECT a.customer_id, a.metric_key, a.hour, usage_series_key(a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions),
            a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions,
            a.records, a.sum, a.integral, a.max, a.last_start, a.last_value,
            a.first_at, a.inner_integral, a.inner_max, a.last_at, a.last_sample,
            a.span_start, a.span_end, a.span_quantity, a.span_end_max
        FROM agg a
        ORDER BY 1, 2, 3, 4 -- key order, as usage_hourly_refresh (0004) locks
        ON CONFLICT (customer_id, metric_key, hour, series_key) DO UPDATE SET
            records = EXCLUDED.records, sum = EXCLUDED.sum, integral = EXCLUDED.integral, max = EXCLUDED.max,
            last_start = EXCLUDED.last_start, last_value = EXCLUDED.last_value, first_at = EXCLUDED.first_at,
            inner_integral = EXCLUDED.inner_integral, inner_max = EXCLUDED.inner_max, last_at = EXCLUDED.last_at,
            last_sample = EXCLUDED.last_sample, span_start = EXCLUDED.span_start, span_end = EXCLUDED.span_end,
            span_quantity = EXCLUDED.span_quantity, span_end_max = EXCLUDED.span_end_max
    ), unmark AS ( -- dense now: rolled up
        DELETE FROM usage_hourly_raw x USING density d
        WHERE d.dense AND x.customer_id = d.customer_id AND x.metric_key = d.metric_key AND x.hour = d.hour
    ), unroll AS ( -- sparse (again): read raw
        DELETE FROM usage_hourly u USING density d
        WHERE NOT d.dense AND u.customer_id = d.customer_id AND u.metric_key = d.metric_key AND u.hour = d.hour
    ), mark AS (
        INSERT INTO usage_hourly_raw (customer_id, metric_key, hour)
        SELECT customer_id, metric_key, hour FROM density WHERE NOT dense
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
    )
    SELECT count(*) FROM density
$fn$;

-- usage_hourly_drain takes up to n dirty hours (in index order), deletes
-- every row of them from the log and brings them up to date. It returns
-- how many hours it took (0: the log is empty). Callers must hold the
-- workers' advisory lock, so that two drains never recompute one hour from
-- different snapshots. The deletion and the recomputation run in one
-- statement: every record committed with a deleted log row is seen.
--
-- An hour that has no rollup rows yet and whose log rows say it is sparse
-- (their records fewer than twice their resources, which counts a resource
-- once per batch and so errs towards sparse) is marked raw without reading
-- its records: in the usual case, a collector's batch adding a sample or
-- two per resource, this saves re-reading every record. Marking a dense
-- hour raw costs only speed: billing is exact either way, and the next
-- batch into the hour, or one into an hour that has rollup rows, takes the
-- exact path (usage_hourly_recompute).
CREATE FUNCTION usage_hourly_drain(n int)
RETURNS int LANGUAGE sql AS $fn$
    WITH k AS (
        SELECT DISTINCT customer_id, metric_key, hour
        FROM (SELECT customer_id, metric_key, hour FROM usage_hourly_dirty ORDER BY customer_id, metric_key, hour LIMIT n) s
    ), d AS (
        DELETE FROM usage_hourly_dirty x USING k
        WHERE x.customer_id = k.customer_id AND x.metric_key = k.metric_key AND x.hour = k.hour
        RETURNING x.customer_id, x.metric_key, x.hour, x.records, x.resources
    ), h AS MATERIALIZED (
        SELECT d.customer_id, d.metric_key, d.hour,
               sum(d.records) < 2 * sum(d.resources) AND NOT EXISTS (
                   SELECT 1 FROM usage_hourly u WHERE u.customer_id = d.customer_id AND u.metric_key = d.metric_key AND u.hour = d.hour
               ) AS sparse
        FROM d GROUP BY d.customer_id, d.metric_key, d.hour
    ), mark AS (
        INSERT INTO usage_hourly_raw (customer_id, metric_key, hour)
        SELECT customer_id, metric_key, hour FROM h WHERE sparse
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
    ), r AS (
        SELECT usage_hourly_recompute(array_agg(customer_id), array_agg(metric_key), array_agg(hour)) AS rows
        FROM h WHERE NOT sparse
    )
    SELECT (SELECT count(*) FROM k)::int FROM r -- FROM r: a CTE that is not read is not run
$fn$;
