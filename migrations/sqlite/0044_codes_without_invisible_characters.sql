-- Codes imported before the import dropped the characters no one sees
-- (a zero-width space or joiner, a word joiner, a byte-order mark, a
-- soft hyphen, copied in from a chat or a web page) lose them, as the
-- import now reads a code: a file sent again then finds its rows rather
-- than adding them a second time. A code that would become another's
-- (two rows apart only by such a character) is left as it is. Each
-- table's codes are read once (no row is compared with every other).

UPDATE branches SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM branches GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE users SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM users GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE boarding_houses SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM boarding_houses GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE workers SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM workers GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE loan_products SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM loan_products GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE loans SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM loans GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);

UPDATE campaigns SET code = replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
WHERE code <> replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '')
  AND replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') IN (SELECT replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') FROM campaigns GROUP BY replace(replace(replace(replace(replace(replace(code, char(8203), ''), char(8204), ''), char(8205), ''), char(8288), ''), char(65279), ''), char(173), '') HAVING COUNT(*) = 1);
