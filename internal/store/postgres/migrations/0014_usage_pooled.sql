-- 0014_usage_pooled: pooled hours, a customer's usage of a metric summed
-- over its resources, per UTC hour.
--
-- The hourly rollups (0004–0012) are per series: a collector that sends one
-- interval record per resource and hour gets one rollup per record, so a
-- month of 200 VMs is as many rows to read and rate as it has records. A
-- bill grouped without the resource needs only the sums: per (customer,
-- metric, hour, organisation, VDC, site, dimensions), over every resource,
-- Σ quantity and Σ quantity × seconds of the records that start and end
-- inside the hour. That is exact for the linear aggregations (sum, and a
-- time-weighted average's integral) and has as many rows for 200 VMs as
-- for one (internal/billing, "pool"; store/postgres/usage_pooled_read.go).
--
-- usage_pooled holds those sums for the hours the rollup worker has
-- drained; usage_pooled_hours lists the hours pools do not stand for,
-- which billing reads record by record: those the drain left sparse (a
-- batch's hint of fewer than two records an hour, where a pool would be a
-- row per record: the 0008 lesson; samples of a time-weighted average;
-- every hour of a metric no query pools), those with records reaching
-- past the hour (spans), and, for gauges, those with point samples (a
-- sample's level holds per resource until its next sample). An hour with
-- a row in usage_hourly_dirty is read raw as well, so billing is exact at
-- every moment: an hour is read raw, or its pools were written in one
-- snapshot that every later record left a dirty row after (0012's
-- argument).
--
-- Both are rewritten, hour by hour, by usage_pooled_recompute_customer,
-- which the drain calls for the hours it takes that are dense or pooled
-- already, and the tools' entry usage_hourly_recompute for theirs.

CREATE TABLE usage_pooled (
    customer_id     text COLLATE "C" NOT NULL,
    metric_key      text COLLATE "C" NOT NULL,
    hour            timestamptz NOT NULL,
    pool_key        text NOT NULL, -- usage_series_key('', organisation_id, vdc_id, site, dimensions)
    organisation_id text NOT NULL,
    vdc_id          text NOT NULL,
    site            text NOT NULL,
    dimensions      jsonb NOT NULL,
    records         integer NOT NULL, -- records summed up: points and intervals inside the hour
    sum             numeric NOT NULL, -- Σ quantity
    integral        numeric,          -- Σ quantity × seconds of the interval records; NULL: none
    PRIMARY KEY (customer_id, metric_key, hour, pool_key)
);

CREATE TABLE usage_pooled_hours (
    customer_id text COLLATE "C" NOT NULL,
    metric_key  text COLLATE "C" NOT NULL,
    hour        timestamptz NOT NULL,
    points      integer NOT NULL, -- point records starting in the hour
    spans       integer NOT NULL, -- records starting in the hour and ending after it
    sparse      boolean NOT NULL, -- not pooled: too few records, samples of an average, or no pooled metric
    PRIMARY KEY (customer_id, metric_key, hour)
);

SELECT billingd_distribute('usage_pooled', 'customer');
SELECT billingd_distribute('usage_pooled_hours', 'customer');

-- usage_pooled_recompute_customer brings the pools of the hours (m[i],
-- h[i]) of customer c up to date with usage_records. An hour billing would
-- read raw anyway gets no pools: one with spans, or with samples of a
-- time-weighted average (then listed sparse), and every hour of a metric
-- no query pools (max, latest, unique_count: listed sparse without reading
-- its records). Listing by today's aggregation is safe if it changes: a
-- sparse hour is read raw whatever the metric has become. Each statement
-- reads and writes one customer's rows, so that Citus runs it on one
-- worker (0012).
CREATE FUNCTION usage_pooled_recompute_customer(c text, m text[], h timestamptz[])
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    linear text[];  -- metrics a query may pool
    average text[]; -- those among them whose samples are levels
BEGIN
    SELECT coalesce(array_agg(key) FILTER (WHERE aggregation IN ('sum', 'time_weighted_avg')), '{}'),
           coalesce(array_agg(key) FILTER (WHERE aggregation = 'time_weighted_avg'), '{}')
    INTO linear, average
    FROM metrics WHERE key = ANY (m);

    DELETE FROM usage_pooled u
    WHERE u.customer_id = c AND (u.metric_key, u.hour) IN (SELECT t.m, t.h FROM unnest(m, h) AS t(m, h));
    DELETE FROM usage_pooled_hours u
    WHERE u.customer_id = c AND (u.metric_key, u.hour) IN (SELECT t.m, t.h FROM unnest(m, h) AS t(m, h));

    INSERT INTO usage_pooled_hours (customer_id, metric_key, hour, points, spans, sparse)
    SELECT c, t.m, t.h, 0, 0, true
    FROM (SELECT DISTINCT t.m, t.h FROM unnest(m, h) AS t(m, h)) t
    WHERE NOT t.m = ANY (linear)
    ORDER BY 1, 2, 3;

    -- r.customer_id (not c) in the inserts that read usage_records: Citus
    -- then runs each one whole on the customer's worker, not through the
    -- coordinator
    INSERT INTO usage_pooled_hours (customer_id, metric_key, hour, points, spans, sparse)
    SELECT r.customer_id, t.m, t.h, count(*) FILTER (WHERE r.end_time = r.start_time),
           count(*) FILTER (WHERE r.end_time > t.h + interval '1 hour'),
           t.m = ANY (average) AND bool_or(r.end_time = r.start_time)
    FROM (SELECT DISTINCT t.m, t.h FROM unnest(m, h) AS t(m, h) WHERE t.m = ANY (linear)) t
    JOIN usage_records r ON r.customer_id = c AND r.metric_key = t.m
        AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
        AND (r.end_time = r.start_time OR r.end_time > t.h + interval '1 hour')
    GROUP BY r.customer_id, t.m, t.h
    ORDER BY 1, 2, 3;

    INSERT INTO usage_pooled (customer_id, metric_key, hour, pool_key, organisation_id, vdc_id, site, dimensions,
        records, sum, integral)
    SELECT r.customer_id, t.m, t.h, usage_series_key('', r.organisation_id, r.vdc_id, r.site, r.dimensions),
           r.organisation_id, r.vdc_id, r.site, r.dimensions, count(*), sum(r.quantity),
           sum(r.quantity * (extract(epoch FROM r.end_time) - extract(epoch FROM r.start_time))) FILTER (WHERE r.end_time > r.start_time)
    FROM (
        SELECT DISTINCT t.m, t.h FROM unnest(m, h) AS t(m, h)
        WHERE t.m = ANY (linear) AND NOT EXISTS ( -- read raw anyway
            SELECT 1 FROM usage_pooled_hours f
            WHERE f.customer_id = c AND f.metric_key = t.m AND f.hour = t.h AND (f.sparse OR f.spans > 0))
    ) t
    JOIN usage_records r ON r.customer_id = c AND r.metric_key = t.m
        AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
    WHERE r.end_time <= t.h + interval '1 hour'
    GROUP BY r.customer_id, t.m, t.h, r.organisation_id, r.vdc_id, r.site, r.dimensions
    ORDER BY 1, 2, 3, 4; -- key order, as every writer locks
END
$fn$;

-- usage_hourly_drain_customer (0012), and now the pools of the hours of
-- the runs it takes: recomputed where the batch's hint has two records an
-- hour or more, or the hour has pools already (late records must reach
-- them); the others are listed sparse, without reading their records.
CREATE OR REPLACE FUNCTION usage_hourly_drain_customer(c text, n int)
RETURNS int LANGUAGE plpgsql AS $fn$
DECLARE
    cut_m text;
    cut_h timestamptz;
    dm text[];
    df timestamptz[];
    dl timestamptz[];
    drec int[];
    dres int[];
    taken int;
    rm text[];
    rh timestamptz[];
    hm text[];
    hh timestamptz[];
    pm text[];
    ph timestamptz[];
    sm text[];
    sh timestamptz[];
    pooled text[];
    lo timestamptz;
    hi timestamptz;
BEGIN
    SELECT metric_key, first_hour INTO cut_m, cut_h
    FROM usage_hourly_dirty WHERE customer_id = c
    ORDER BY metric_key, first_hour OFFSET greatest(n, 1) - 1 LIMIT 1;

    WITH d AS (
        DELETE FROM usage_hourly_dirty
        WHERE customer_id = c AND (cut_m IS NULL OR (metric_key, first_hour) <= (cut_m, cut_h))
        RETURNING metric_key, first_hour, last_hour, records, resources
    )
    SELECT array_agg(metric_key), array_agg(first_hour), array_agg(last_hour), array_agg(records), array_agg(resources), count(*)
    INTO dm, df, dl, drec, dres, taken
    FROM d;
    IF taken = 0 THEN
        RETURN 0;
    END IF;

    lo := (SELECT min(f) FROM unnest(df) AS f);
    hi := (SELECT max(l) FROM unnest(dl) AS l);
    SELECT array_agg(metric_key), array_agg(hour) INTO rm, rh
    FROM usage_hourly_rolled
    WHERE customer_id = c AND metric_key = ANY (dm) AND hour >= lo AND hour <= hi;

    -- no table here: the runs and the rolled-up hours are in the arrays
    SELECT array_agg(metric_key), array_agg(hour) INTO hm, hh
    FROM (
        SELECT s.m AS metric_key, s.hour
        FROM (
            SELECT d.m, x.hour, d.rec / d.hours AS rec, d.res / d.hours AS res, u.m IS NOT NULL AS rolled,
                   d.rec >= 2 * d.res OR bool_or(u.m IS NOT NULL) OVER (PARTITION BY d.i) AS eligible
            FROM (
                SELECT t.*, extract(epoch FROM t.l - t.f) / 3600 + 1 AS hours
                FROM unnest(dm, df, dl, drec, dres) WITH ORDINALITY AS t(m, f, l, rec, res, i)
            ) d
            CROSS JOIN LATERAL generate_series(d.f, d.l, interval '1 hour') AS x(hour)
            LEFT JOIN unnest(rm, rh) AS u(m, h) ON u.m = d.m AND u.h = x.hour
        ) s
        WHERE s.eligible
        GROUP BY s.m, s.hour
        HAVING sum(s.rec) >= 2 * sum(s.res) OR bool_or(s.rolled)
    ) h;

    IF hm IS NOT NULL THEN
        PERFORM usage_hourly_recompute_customer(c, hm, hh);
    END IF;

    SELECT array_agg(DISTINCT u.metric_key || chr(1) || u.hour::text) INTO pooled
    FROM usage_pooled u
    WHERE u.customer_id = c AND u.metric_key = ANY (dm) AND u.hour >= lo AND u.hour <= hi;

    SELECT array_agg(p.m) FILTER (WHERE p.dense), array_agg(p.hour) FILTER (WHERE p.dense),
           array_agg(p.m) FILTER (WHERE NOT p.dense), array_agg(p.hour) FILTER (WHERE NOT p.dense)
    INTO pm, ph, sm, sh
    FROM (
        SELECT t.m, x.hour, sum(t.rec / t.hours) >= 2 OR (t.m || chr(1) || x.hour::text) = ANY (coalesce(pooled, '{}')) AS dense
        FROM (
            SELECT t.*, extract(epoch FROM t.l - t.f) / 3600 + 1 AS hours
            FROM unnest(dm, df, dl, drec) AS t(m, f, l, rec)
        ) t
        CROSS JOIN LATERAL generate_series(t.f, t.l, interval '1 hour') AS x(hour)
        GROUP BY t.m, x.hour
    ) p;
    IF pm IS NOT NULL THEN
        PERFORM usage_pooled_recompute_customer(c, pm, ph);
    END IF;
    IF sm IS NOT NULL THEN
        INSERT INTO usage_pooled_hours (customer_id, metric_key, hour, points, spans, sparse)
        SELECT c, t.m, t.h, 0, 0, true FROM unnest(sm, sh) AS t(m, h)
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN taken;
END
$fn$;

-- usage_hourly_recompute (0012), the entry for tools that write
-- usage_records directly, recomputes the pools of its hours as well.
CREATE OR REPLACE FUNCTION usage_hourly_recompute(c text[], m text[], h timestamptz[])
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    one record;
    hours bigint := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(8463215221470163558); -- "usagehrf", rollupLockKey
    FOR one IN
        SELECT t.c, array_agg(t.m) AS m, array_agg(t.h) AS h
        FROM unnest(c, m, h) AS t(c, m, h) GROUP BY t.c ORDER BY t.c
    LOOP
        hours := hours + usage_hourly_recompute_customer(one.c, one.m, one.h);
        PERFORM usage_pooled_recompute_customer(one.c, one.m, one.h);
    END LOOP;
    RETURN hours;
END
$fn$;

-- Usage stored before this migration has no pools: its hours go to the
-- dirty log (those not there yet), which the rollup worker drains in the
-- background after the next start (until then they are read raw, as
-- before).
INSERT INTO usage_hourly_dirty (customer_id, metric_key, first_hour, last_hour, records, resources)
SELECT r.customer_id, r.metric_key, r.hour, r.hour, count(*), count(DISTINCT r.resource_id)
FROM (SELECT customer_id, metric_key, resource_id, date_trunc('hour', start_time, 'UTC') AS hour FROM usage_records) r
WHERE NOT EXISTS (
    SELECT 1 FROM usage_hourly_dirty d
    WHERE d.customer_id = r.customer_id AND d.metric_key = r.metric_key AND r.hour BETWEEN d.first_hour AND d.last_hour)
GROUP BY r.customer_id, r.metric_key, r.hour;
