-- Version 8: the fund's code for each worker (NLD-00119), as the branch's
-- lists and reports name them, so that an officer finds a worker by it.
ALTER TABLE workers ADD COLUMN code TEXT;

-- The workers already downloaded came without it: the next sync downloads
-- the portfolio again, once.
DELETE FROM meta WHERE key = 'cursor';
