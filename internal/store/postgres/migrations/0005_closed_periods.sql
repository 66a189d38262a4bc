-- 0005_closed_periods: a customer's month can be closed; its billing result
-- is then frozen, and later changes reach the bill as adjustment lines in
-- the next open month (see internal/billing/periods.go).
--
-- A closed month is frozen by its inputs, not its output, so that every
-- grouping, granularity and report of it stays reproducible:
--   - the price book as it was at closing (book: the catalog and the
--     customer's and the default prices, campaigns and contracts, as JSON;
--     book_hash tells cheaply whether today's book still equals it);
--   - the usage stored before closing: every usage record inserted after
--     the month was closed and that rating the month reads (starting in the
--     month or up to 40 days before it, billing.Lookback) is listed in
--     usage_late by the trigger below, and frozen reads leave those out.
-- Closing takes SHARE locks on usage_keys and usage_records, so no ingest
-- transaction is in flight across the close: a record either committed
-- before (frozen in) or is inserted after and seen by the trigger.

CREATE TABLE closed_periods (
    id              uuid PRIMARY KEY,
    customer_id     text COLLATE "C" NOT NULL REFERENCES customers (id),
    month           text NOT NULL CHECK (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
    time_zone       text NOT NULL,
    start_time      timestamptz NOT NULL,
    end_time        timestamptz NOT NULL CHECK (end_time > start_time),
    close_time      timestamptz NOT NULL,
    closed_by       text NOT NULL,
    book            jsonb NOT NULL,
    book_hash       text NOT NULL,
    totals          jsonb,  -- [{currency, amount, lines}] of the frozen result; NULL until computed
    UNIQUE (customer_id, month)
);

CREATE INDEX ON closed_periods (customer_id, start_time);

CREATE TABLE usage_late (
    period_id       uuid NOT NULL REFERENCES closed_periods (id) ON DELETE CASCADE,
    idempotency_key text COLLATE "C" NOT NULL,
    PRIMARY KEY (period_id, idempotency_key)
);

-- Adjustment lines booked in a closed month: frozen with it. cause: 1 late
-- usage, 2 price change (billing.v1.AdjustmentCause).
CREATE TABLE period_adjustments (
    period_id       uuid NOT NULL REFERENCES closed_periods (id) ON DELETE CASCADE,
    seq             integer NOT NULL,
    adjusted_month  text NOT NULL,
    cause           smallint NOT NULL CHECK (cause IN (1, 2)),
    line            jsonb NOT NULL,
    PRIMARY KEY (period_id, seq)
);

CREATE FUNCTION usage_mark_late() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    -- most deployments close few months: skip the join when none can match
    IF EXISTS (SELECT 1 FROM closed_periods) THEN
        INSERT INTO usage_late (period_id, idempotency_key)
        SELECT p.id, n.idempotency_key
        FROM new_records n
        JOIN closed_periods p ON p.customer_id = n.customer_id
            AND n.start_time >= p.start_time - interval '40 days' AND n.start_time < p.end_time
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER usage_records_mark_late
    AFTER INSERT ON usage_records
    REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION usage_mark_late();
