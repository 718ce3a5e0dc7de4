-- Version 2: gift acknowledgements keep the hash of the recipient's
-- signature image; the image waits here until it is uploaded.

ALTER TABLE gift_handouts ADD COLUMN signature_sha256 TEXT;

CREATE TABLE signatures (
    sha256 TEXT PRIMARY KEY,
    image  BLOB NOT NULL
) WITHOUT ROWID;
