-- 0015_book_version: a version of the catalog and price book, so that a
-- billing query reads one tiny row instead of the whole book and keeps
-- the engines built from it while the book is unchanged.
--
-- book_version holds one row. Every write to a table the billing price
-- book is read from (metrics, products, price_lists, prices, campaigns,
-- campaign_entries, contracts) raises version by one in the same
-- transaction (the store's write paths do, first thing: see
-- internal/store/postgres/book.go), so two snapshots that see the same
-- version see the same book. The writes themselves serialise on the row,
-- which costs nothing at the rate a price book changes.
--
-- It is not kept by triggers: the book's tables are Citus reference
-- tables, and triggers there need citus.enable_unsafe_triggers (see
-- docs/operations.md). Whoever writes those tables with SQL must raise the
-- version in the same transaction:
--     UPDATE book_version SET version = version + 1;
-- and so must a later migration that changes their rows
-- (TestMigrationsRaiseBookVersion checks).
--
-- A reference table like the book itself: on Citus the version and the
-- book are read from the same node's copies.
CREATE TABLE book_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL
);

SELECT billingd_distribute('book_version', 'reference');

INSERT INTO book_version (one, version) VALUES (true, 1);
