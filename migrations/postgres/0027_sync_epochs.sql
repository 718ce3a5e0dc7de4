-- Sync epochs: each start of the server (and each import from the command
-- line) opens one, with a random tag and the first change sequence it can
-- hand out. A download cursor names the epoch it was given in
-- ("<tag>.<seq>"), and holds while no later epoch begins at or before its
-- sequence. A database restored from a backup lacks the epochs opened
-- after the backup, and the epoch its next start opens begins just after
-- the backup's last change: the cursors given after the backup, whose
-- changes the restore lost, are refused (410 sync_cursor_reset), and those
-- phones download their portfolio again and send again what the server
-- had acknowledged. Cursors from before the backup still hold.
CREATE TABLE sync_epochs (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tag       TEXT NOT NULL UNIQUE,
    first_seq BIGINT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL
);
INSERT INTO sync_epochs (tag, first_seq, opened_at)
SELECT substr(md5(random()::text || clock_timestamp()::text), 1, 16), value + 1, now() FROM sync_counter WHERE id = 1;
