-- 0012_usage_hourly_per_customer: the rollup worker's functions work one
-- customer at a time, in PL/pgSQL.
--
-- usage_hourly_drain and usage_hourly_recompute (0008, 0009) were SQL
-- functions whose single statement joined the dirty hours of many
-- customers with their records. Citus can run none of that on tables
-- distributed by customer: it cannot plan parameters in SQL functions, a
-- lateral subquery with OFFSET 0, a DELETE by ctid, or a correlated EXISTS
-- over a CTE across shards. Each statement now reads and writes one
-- customer's rows (customer_id = c), which Citus sends whole to the one
-- worker that holds them (the recomputation runs there, next to the
-- records) and PostgreSQL runs as before.
--
-- What a drain means is unchanged (0006, 0008, 0009): it deletes up to n
-- dirty rows (runs of hours) and brings their hours up to date. It is no
-- longer one statement, and does not need to be: a record committed after
-- the DELETE took its snapshot has left a dirty row that the DELETE did
-- not see, so its hour is recomputed again later; a later statement that
-- sees more records than the DELETE did only makes a rollup more current.
-- Callers still hold the workers' advisory lock (usage_rollup.go).

-- usage_hourly_recompute_customer brings the hours (m[i], h[i]) of
-- customer c up to date with usage_records: a dense hour gets the rollups
-- of every series and its mark in usage_hourly_rolled; a sparse one loses
-- both. It returns how many of the hours have records.
CREATE FUNCTION usage_hourly_recompute_customer(c text, m text[], h timestamptz[])
RETURNS bigint LANGUAGE plpgsql AS $fn$
DECLARE
    dense_m text[];
    dense_h timestamptz[];
    sparse_m text[];
    sparse_h timestamptz[];
    hours bigint;
BEGIN
    -- records and resources per hour (an index range scan per hour, by the
    -- join's range condition), by two hash aggregations
    SELECT array_agg(metric_key) FILTER (WHERE dense), array_agg(hour) FILTER (WHERE dense),
           array_agg(metric_key) FILTER (WHERE NOT dense), array_agg(hour) FILTER (WHERE NOT dense), count(*)
    INTO dense_m, dense_h, sparse_m, sparse_h, hours
    FROM (
        SELECT metric_key, hour, sum(n) >= 2 * count(*) AS dense
        FROM (
            SELECT t.m AS metric_key, t.h AS hour, count(*) AS n
            FROM (SELECT DISTINCT t.m, t.h FROM unnest(m, h) AS t(m, h)) t
            JOIN usage_records r ON r.customer_id = c AND r.metric_key = t.m
                AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
            GROUP BY t.m, t.h, r.resource_id
        ) s
        GROUP BY metric_key, hour
    ) d;

    IF dense_m IS NOT NULL THEN
        INSERT INTO usage_hourly AS u (customer_id, metric_key, hour, series_key, resource_id, organisation_id, vdc_id, site, dimensions,
            records, sum, integral, max, last_start, last_value, first_at, inner_integral, inner_max, last_at, last_sample,
            span_start, span_end, span_quantity, span_end_max)
        SELECT a.customer_id, a.metric_key, a.hour, usage_series_key(a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions),
            a.resource_id, a.organisation_id, a.vdc_id, a.site, a.dimensions,
            a.records, a.sum, a.integral, a.max, a.last_start, a.last_value,
            a.first_at, a.inner_integral, a.inner_max, a.last_at, a.last_sample,
            a.span_start, a.span_end, a.span_quantity, a.span_end_max
        FROM (
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
            FROM ( -- next_at: the next effective sample in the hour
                SELECT x.*, CASE WHEN eff THEN lead(start_time) OVER (
                           PARTITION BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions, eff
                           ORDER BY start_time) END AS next_at
                FROM ( -- eff: the effective point sample of its instant (received last, the larger on a tie)
                    SELECT r.*, point AND row_number() OVER (
                               PARTITION BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions, point, start_time
                               ORDER BY receive_time DESC, quantity DESC) = 1 AS eff
                    FROM (
                        SELECT r.customer_id, t.m AS metric_key, t.h AS hour, r.resource_id, r.organisation_id,
                               r.vdc_id, r.site, r.dimensions, r.quantity, r.start_time, r.end_time, r.receive_time,
                               r.end_time <= t.h + interval '1 hour' AS inside, r.end_time = r.start_time AS point
                        FROM unnest(dense_m, dense_h) AS t(m, h)
                        JOIN usage_records r ON r.customer_id = c AND r.metric_key = t.m
                            AND r.start_time >= t.h AND r.start_time < t.h + interval '1 hour'
                    ) r
                ) x
            ) y
            GROUP BY customer_id, metric_key, hour, resource_id, organisation_id, vdc_id, site, dimensions
        ) a
        ORDER BY 1, 2, 3, 4 -- key order, as every writer of usage_hourly locks
        ON CONFLICT (customer_id, metric_key, hour, series_key) DO UPDATE SET
            records = EXCLUDED.records, sum = EXCLUDED.sum, integral = EXCLUDED.integral, max = EXCLUDED.max,
            last_start = EXCLUDED.last_start, last_value = EXCLUDED.last_value, first_at = EXCLUDED.first_at,
            inner_integral = EXCLUDED.inner_integral, inner_max = EXCLUDED.inner_max, last_at = EXCLUDED.last_at,
            last_sample = EXCLUDED.last_sample, span_start = EXCLUDED.span_start, span_end = EXCLUDED.span_end,
            span_quantity = EXCLUDED.span_quantity, span_end_max = EXCLUDED.span_end_max;

        -- dense: rolled up
        INSERT INTO usage_hourly_rolled (customer_id, metric_key, hour)
        SELECT c, t.m, t.h FROM unnest(dense_m, dense_h) AS t(m, h)
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING;
    END IF;

    IF sparse_m IS NOT NULL THEN -- sparse (again): read raw
        DELETE FROM usage_hourly u
        WHERE u.customer_id = c AND (u.metric_key, u.hour) IN (SELECT t.m, t.h FROM unnest(sparse_m, sparse_h) AS t(m, h));
        DELETE FROM usage_hourly_rolled u
        WHERE u.customer_id = c AND (u.metric_key, u.hour) IN (SELECT t.m, t.h FROM unnest(sparse_m, sparse_h) AS t(m, h));
    END IF;
    RETURN hours;
END
$fn$;

-- usage_hourly_drain_customer takes up to n of customer c's dirty rows (in
-- index order; all rows of the n-th row's metric and first hour), deletes
-- them and brings their hours up to date, and returns how many it deleted.
-- A run that its hint calls sparse and that has no rolled-up hour needs
-- nothing more (0008); the others are spread over their hours, and each
-- hour is recomputed unless its hint is sparse and it is not rolled up.
CREATE FUNCTION usage_hourly_drain_customer(c text, n int)
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
    RETURN taken;
END
$fn$;

-- usage_hourly_drain takes up to n dirty rows, customer by customer in
-- customer order, and returns how many it took (0: the log is empty).
DROP FUNCTION usage_hourly_drain(int);
CREATE FUNCTION usage_hourly_drain(n int)
RETURNS int LANGUAGE plpgsql AS $fn$
DECLARE
    customers text[];
    c text;
    total int := 0;
BEGIN
    SELECT array_agg(customer_id) INTO customers
    FROM (SELECT DISTINCT customer_id FROM usage_hourly_dirty ORDER BY customer_id LIMIT n) s;
    FOREACH c IN ARRAY coalesce(customers, '{}') LOOP
        total := total + usage_hourly_drain_customer(c, n - total);
        EXIT WHEN total >= n;
    END LOOP;
    RETURN total;
END
$fn$;

-- usage_hourly_recompute (0008) keeps its signature for tools that write
-- usage_records directly, and recomputes customer by customer. It first
-- takes the rollup workers' advisory lock (usage_rollup.go), so it waits
-- for a drain or another recomputation in flight, and its statements then
-- see every record that one saw: it can run beside billingd's workers.
DROP FUNCTION usage_hourly_recompute(text[], text[], timestamptz[]);
CREATE FUNCTION usage_hourly_recompute(c text[], m text[], h timestamptz[])
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
    END LOOP;
    RETURN hours;
END
$fn$;

-- usage_hourly_refresh (0004) recomputed single series of hours; it now
-- recomputes the whole hours, which includes those series, under the
-- workers' lock (so no longer only while no worker runs).
DROP FUNCTION usage_hourly_refresh(text[], text[], timestamptz[], text[], text[], text[], text[], jsonb[]);
CREATE FUNCTION usage_hourly_refresh(c text[], m text[], h timestamptz[], res text[], org text[], vdc text[], st text[], dims jsonb[])
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    PERFORM usage_hourly_recompute(c, m, h);
END
$fn$;
