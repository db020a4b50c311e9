-- Root filesystems imported from tarballs for native sandboxes. The files
-- live under <data>/images/<name>/rootfs.
CREATE TABLE images (
    name       TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128 AND name != 'host'),
    provider   TEXT NOT NULL DEFAULT 'local' REFERENCES providers(id),
    size_bytes INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    created_by TEXT
);
