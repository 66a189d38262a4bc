-- 0011_usage_late_in_ingest: the ingest transaction lists late records
-- itself; the trigger that did goes.
--
-- usage_records_mark_late (0005, 0007) was a statement trigger with a
-- transition table. Citus cannot run such a trigger on its shards ("a
-- query from a shard cannot be distributed"), and a table with triggers
-- cannot be distributed at all. The ingest transaction now does the same
-- after it stored its records (usage.go, markLate): it reads the closed
-- months of the batch's customers, and lists in usage_late the records
-- that start in one of them or up to 40 days before it. Closing still
-- takes SHARE on usage_records, so a record is either committed before
-- the close (frozen in) or stored after it and listed by its own
-- transaction, which then sees the closed month.
--
-- Replicas of an older version must be stopped before this migration
-- runs: they would store late records without listing them.

DROP TRIGGER usage_records_mark_late ON usage_records;
DROP FUNCTION usage_mark_late();
