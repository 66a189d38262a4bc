-- 0008_usage_hourly_rolled: mark the hours that are rolled up, not the
-- ones that are not.
--
-- 0006 wrote a row to usage_hourly_raw for every (customer, metric, hour)
-- too sparse to roll up. Collectors that send one sample per resource and
-- hour make nearly every hour sparse, so that was one more insert (and
-- index entry) for every few records, on top of the dirty log: measured,
-- the rollup bookkeeping cost PostgreSQL about as much per record as the
-- record itself. Now an hour is read from rollups only when it has a row
-- in usage_hourly_rolled (and no row in the dirty log); every other hour
-- is read raw. A sparse hour costs nothing once its dirty row is drained,
-- and a dense one a single mark, written with its rollups in one
-- statement. Billing stays exact at every moment: an hour is either read
-- raw, or its mark and rollups were written in one snapshot and every
-- record committed later has left a dirty row.
--
-- usage_hourly_refresh (0004) does not write marks: hours it refreshes are
-- read raw until a drain recomputes them. Tools that write usage_records
-- directly should call usage_hourly_recompute(customers, metrics, hours).

CREATE TABLE usage_hourly_rolled (
    customer_id text COLLATE "C" NOT NULL,
    metric_key  text COLLATE "C" NOT NULL,
    hour        timestamptz NOT NULL,
    PRIMARY KEY (customer_id, metric_key, hour)
);

INSERT INTO usage_hourly_rolled (customer_id, metric_key, hour)
SELECT DISTINCT customer_id, metric_key, hour FROM usage_hourly;

DROP TABLE usage_hourly_raw;

-- usage_hourly_recompute brings the given (customer, metric, hour)s up to
-- date with usage_records: a dense hour gets the rollups of every series
-- and its mark; a sparse one loses both. It returns the hours it recomputed.
CREATE OR REPLACE FUNCTION usage_hourly_recompute(c text[], m text[], h timestamptz[])
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
    ), mark AS ( -- dense: rolled up
        INSERT INTO usage_hourly_rolled (customer_id, metric_key, hour)
        SELECT customer_id, metric_key, hour FROM density WHERE dense
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
    ), unroll AS ( -- sparse (again): read raw
        DELETE FROM usage_hourly u USING density d
        WHERE NOT d.dense AND u.customer_id = d.customer_id AND u.metric_key = d.metric_key AND u.hour = d.hour
    ), unmark AS (
        DELETE FROM usage_hourly_rolled x USING density d
        WHERE NOT d.dense AND x.customer_id = d.customer_id AND x.metric_key = d.metric_key AND x.hour = d.hour
    )
    SELECT count(*) FROM density
$fn$;

-- usage_hourly_drain: as in 0006, but a sparse hour that is not rolled up
-- needs nothing beyond the deletion of its dirty rows (0006 marked it raw).
CREATE OR REPLACE FUNCTION usage_hourly_drain(n int)
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
                   SELECT 1 FROM usage_hourly_rolled u WHERE u.customer_id = d.customer_id AND u.metric_key = d.metric_key AND u.hour = d.hour
               ) AS sparse
        FROM d GROUP BY d.customer_id, d.metric_key, d.hour
    ), r AS (
        SELECT usage_hourly_recompute(array_agg(customer_id), array_agg(metric_key), array_agg(hour)) AS rows
        FROM h WHERE NOT sparse
    )
    SELECT (SELECT count(*) FROM k)::int FROM r -- FROM r: a CTE that is not read is not run
$fn$;
