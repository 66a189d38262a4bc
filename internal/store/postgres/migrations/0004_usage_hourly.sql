-- 0004_usage_hourly: hourly rollups of usage_records, maintained in the
-- ingest transaction, which billing queries read instead of raw records.
--
-- One row per (customer, metric, series, UTC hour) sums up the records of
-- the series that START in the hour. A series is (resource_id,
-- organisation_id, vdc_id, site, dimensions), as billing groups records;
-- series_key is md5 of those columns. Records inside the hour (end_time <=
-- hour + 1h) are folded into the summary columns; records that reach past
-- the hour ("spans", e.g. a month-long gauge level) are kept individually
-- in the span_* arrays, so the reader rates them exactly like raw records
-- (no proportional split whose rounding could differ). The columns are
-- filled whatever the metric's aggregation; the reader picks by it:
--   sum            Σ quantity of the records inside the hour (points and intervals)
--   integral, max  Σ quantity × seconds and max quantity of interval records inside the hour
--   last_start, last_value   the interval record inside the hour that starts last
--   point samples (of each instant only the one received last, the larger on a tie):
--   first_at       the first; inner_integral, inner_max: ∫ and max from first_at to last_at
--   last_at, last_sample     the last; its level holds until the next sample (composed by the reader)
--   records        every record that starts in the hour
--
-- usage_hourly_refresh recomputes the rows of the given series-hours from
-- usage_records (recompute, not add: exact under retries and late data).
-- It first locks the rows (inserting missing ones) in key order, then
-- recomputes them in a second statement whose snapshot sees every
-- transaction that touched them before: two replicas ingesting into one
-- hour serialise on its rows, and the later one recomputes with the
-- earlier one's records.

CREATE TABLE usage_hourly (
    customer_id     text COLLATE "C" NOT NULL,
    metric_key      text COLLATE "C" NOT NULL,
    hour            timestamptz NOT NULL,
    series_key      text COLLATE "C" NOT NULL,
    resource_id     text NOT NULL,
    organisation_id text NOT NULL,
    vdc_id          text NOT NULL,
    site            text NOT NULL,
    dimensions      jsonb NOT NULL,
    records         bigint NOT NULL,
    sum             numeric,
    integral        numeric,
    max             numeric,
    last_start      timestamptz,
    last_value      numeric,
    first_at        timestamptz,
    inner_integral  numeric,
    inner_max       numeric,
    last_at         timestamptz,
    last_sample     numeric,
    span_start      timestamptz[],
    span_end        timestamptz[],
    span_quantity   numeric[],
    span_end_max    timestamptz,
    PRIMARY KEY (customer_id, metric_key, hour, series_key)
);

-- the lookback reads spans that started before a period and reach into it
CREATE INDEX usage_hourly_spans_idx ON usage_hourly (customer_id, metric_key, hour) WHERE span_end_max IS NOT NULL;

CREATE FUNCTION usage_series_key(resource_id text, organisation_id text, vdc_id text, site text, dimensions jsonb)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT md5(resource_id || chr(1) || organisation_id || chr(1) || vdc_id || chr(1) || site || chr(1) || dimensions::text) $$;

CREATE FUNCTION usage_hourly_refresh(c text[], m text[], h timestamptz[], res text[], org text[], vdc text[], st text[], dims jsonb[])
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    -- 1. lock (or create) the rows in key order
    INSERT INTO usage_hourly AS u (customer_id, metric_key, hour, series_key, resource_id, organisation_id, vdc_id, site, dimensions, records)
    SELECT DISTINCT ON (t.c, t.m, t.h, k.series_key) t.c, t.m, t.h, k.series_key, t.res, t.org, t.vdc, t.st, t.dims, 0
    FROM unnest(c, m, h, res, org, vdc, st, dims) AS t(c, m, h, res, org, vdc, st, dims),
         LATERAL (SELECT usage_series_key(t.res, t.org, t.vdc, t.st, t.dims) AS series_key) k
    ORDER BY t.c, t.m, t.h, k.series_key
    ON CONFLICT (customer_id, metric_key, hour, series_key) DO UPDATE SET records = u.records;

    -- 2. recompute them from the records (a new snapshot: sees whoever held the rows before).
    -- One index range scan per series-hour (LATERAL), one pass of window
    -- functions and one GROUP BY: no join whose cost grows with the batch twice.
    WITH t AS (
        SELECT DISTINCT t.c, t.m, t.h, t.res, t.org, t.vdc, t.st, t.dims
        FROM unnest(c, m, h, res, org, vdc, st, dims) AS t(c, m, h, res, org, vdc, st, dims)
    ), r AS (
        SELECT t.c AS customer_id, t.m AS metric_key, t.h AS hour, t.res AS resource_id, t.org AS organisation_id,
               t.vdc AS vdc_id, t.st AS site, t.dims AS dimensions,
               r.quantity, r.start_time, r.end_time, r.receive_time,
               r.end_time <= t.h + interval '1 hour' AS inside, r.end_time = r.start_time AS point
        FROM t CROSS JOIN LATERAL (
            SELECT r.quantity, r.start_time, r.end_time, r.receive_time FROM usage_records r
            WHERE r.customer_id = t.c AND r.metric_key = t.m
              AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
              AND r.resource_id = t.res AND r.organisation_id = t.org AND r.vdc_id = t.vdc AND r.site = t.st AND r.dimensions = t.dims
            OFFSET 0 -- not flattened into a join: an index range scan per series-hour, whatever the partition's size
        ) r
    ), x AS ( -- eff: the effective point sample of its instant (received last, the larger on a tie)
        SELECT r.*, point AND row_number() OVER (
                   PARTITION BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions, point, start_time
                   ORDER BY receive_time DESC, quantity DESC) = 1 AS eff
        FROM r
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
    )
    INSERT INTO usage_hourly AS u (customer_id, metric_key, hour, series_key, resource_id, organisation_id, vdc_id, site, dimensions,
        records, sum, integral, max, last_start, last_value, first_at, inner_integral, inner_max, last_at, last_sample,
        span_start, span_end, span_quantity, span_end_max)
    SELECT a.customer_id, a.metric_key, a.hour, usage_series_key(a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions),
        a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions,
        a.records, a.sum, a.integral, a.max, a.last_start, a.last_value,
        a.first_at, a.inner_integral, a.inner_max, a.last_at, a.last_sample,
        a.span_start, a.span_end, a.span_quantity, a.span_end_max
    FROM agg a
    ON CONFLICT (customer_id, metric_key, hour, series_key) DO UPDATE SET
        records = EXCLUDED.records, sum = EXCLUDED.sum, integral = EXCLUDED.integral, max = EXCLUDED.max,
        last_start = EXCLUDED.last_start, last_value = EXCLUDED.last_value, first_at = EXCLUDED.first_at,
        inner_integral = EXCLUDED.inner_integral, inner_max = EXCLUDED.inner_max, last_at = EXCLUDED.last_at,
        last_sample = EXCLUDED.last_sample, span_start = EXCLUDED.span_start, span_end = EXCLUDED.span_end,
        span_quantity = EXCLUDED.span_quantity, span_end_max = EXCLUDED.span_end_max;
END
$fn$;
