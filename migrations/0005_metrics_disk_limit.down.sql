ALTER TABLE sandbox_metrics DROP COLUMN disk_limit;
