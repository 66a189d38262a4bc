-- 0013_citus_layout: how each table is laid out on Citus, recorded here
-- and applied wherever the citus extension exists.
--
-- schema_layout lists every table with how Citus should hold it:
--   customer   distributed by customer_id, co-located with usage_records
--              (the first such table): one customer's usage, rollups and
--              dirty hours are on one worker, so billing and the rollup
--              worker read and write them in single-worker statements;
--   reference  a copy on every node: the catalog, prices, customers,
--              closed months and keys, small and joined with everything;
--   local      on the coordinator only: audit_events (its append-only
--              triggers cannot be distributed) and billingd's own tables.
-- billingd_distribute(table, how) records a table and, on Citus, lays it
-- out; a migration that creates a table must call it (the migrations test
-- checks). Without Citus it only records, and Migrate applies the layout
-- (billingd_apply_layout) on every start on a database that has the
-- extension: created there from the start, or given it later (see
-- docs/operations.md, "Moving to Citus"). The number of shards is Citus's
-- citus.shard_count of the migrating session.

CREATE TABLE schema_layout (
    seq        integer PRIMARY KEY,
    table_name text COLLATE "C" NOT NULL UNIQUE,
    how        text NOT NULL CHECK (how IN ('customer', 'reference', 'local'))
);

-- billingd_lay_out lays one table out on Citus unless Citus knows it
-- already; true when it did. Without Citus it does nothing.
CREATE FUNCTION billingd_lay_out(t text, how text)
RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
    anchor text;
BEGIN
    IF how = 'local' OR NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN false;
    END IF;
    IF how = 'reference' THEN
        -- A table with a foreign key to a reference table was made a
        -- "Citus local table" (on the coordinator only, repmodel 's') when
        -- that table became one: make it a reference table (repmodel 't')
        -- too, or statements joining it with usage run in several steps.
        IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t::regclass AND repmodel = 't') THEN
            RETURN false;
        END IF;
        PERFORM create_reference_table(t::regclass);
        RETURN true;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = t::regclass AND partmethod = 'h') THEN
        RETURN false;
    END IF;
    SELECT table_name INTO anchor FROM schema_layout WHERE schema_layout.how = 'customer' ORDER BY seq LIMIT 1;
    IF anchor IS NULL OR anchor = t THEN
        PERFORM create_distributed_table(t::regclass, 'customer_id', colocate_with => 'none');
    ELSE
        PERFORM create_distributed_table(t::regclass, 'customer_id', colocate_with => anchor);
    END IF;
    RETURN true;
END
$fn$;

-- billingd_distribute records how table t, created by a later migration,
-- is laid out, and lays it out (a new table is empty).
CREATE FUNCTION billingd_distribute(t text, how text)
RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO schema_layout (seq, table_name, how)
    VALUES ((SELECT coalesce(max(seq), 0) + 1 FROM schema_layout), t, how);
    PERFORM billingd_lay_out(t, how);
END
$fn$;

-- billingd_apply_layout lays out, in the order recorded, every table Citus
-- does not know yet, and returns how many. A table that held rows keeps a
-- copy on the coordinator that Citus no longer reads: it is emptied at the
-- end, once no local table refers to it any more.
CREATE FUNCTION billingd_apply_layout()
RETURNS int LANGUAGE plpgsql AS $fn$
DECLARE
    l record;
    done text[] := '{}';
BEGIN
    FOR l IN SELECT table_name, how FROM schema_layout ORDER BY seq LOOP
        IF billingd_lay_out(l.table_name, l.how) THEN
            done := done || l.table_name;
        END IF;
    END LOOP;
    FOR l IN SELECT unnest(done) AS table_name LOOP
        PERFORM truncate_local_data_after_distributing_table(l.table_name::regclass);
    END LOOP;
    RETURN cardinality(done);
END
$fn$;

-- referenced tables before the tables that refer to them
INSERT INTO schema_layout (seq, table_name, how) VALUES
    (1, 'schema_migrations', 'local'),
    (2, 'schema_layout', 'local'),
    (3, 'audit_events', 'local'),
    (4, 'customers', 'reference'),
    (5, 'organisations', 'reference'),
    (6, 'vdcs', 'reference'),
    (7, 'metrics', 'reference'),
    (8, 'product_groups', 'reference'),
    (9, 'products', 'reference'),
    (10, 'price_lists', 'reference'),
    (11, 'prices', 'reference'),
    (12, 'campaigns', 'reference'),
    (13, 'campaign_entries', 'reference'),
    (14, 'contracts', 'reference'),
    (15, 'idempotent_requests', 'reference'),
    (16, 'api_keys', 'reference'),
    (17, 'closed_periods', 'reference'),
    (18, 'usage_late', 'reference'),
    (19, 'period_adjustments', 'reference'),
    (20, 'usage_records', 'customer'),
    (21, 'usage_hourly', 'customer'),
    (22, 'usage_hourly_rolled', 'customer'),
    (23, 'usage_hourly_dirty', 'customer');

SELECT billingd_apply_layout();
