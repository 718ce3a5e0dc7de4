-- Records a phone sent again after the server's data was restored from an
-- older backup, which a supervisor had approved before the restore: their
-- cash went into the vault then. The review says so of each.
CREATE TABLE approved_before_restore (
    client_id BLOB PRIMARY KEY,
    noted_at  TEXT NOT NULL
) WITHOUT ROWID;
