-- Sandboxes may have a disk of their own (resources.disk_gb); a reading
-- records its size beside what is used.
ALTER TABLE sandbox_metrics ADD COLUMN disk_limit INTEGER;
