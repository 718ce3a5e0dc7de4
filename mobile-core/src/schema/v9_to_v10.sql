-- Version 10: nothing changes shape. The next sync downloads the portfolio
-- again, once, so that what the server put right without telling the
-- phones arrives: codes without the invisible characters they were
-- imported with (the server's migration 0044), and whether each refused
-- gift settled before version 9 was handed out for real.
DELETE FROM meta WHERE key = 'cursor';
