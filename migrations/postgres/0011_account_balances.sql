-- Account balances by branch and sub-ledger (officer, campaign; 0 for none),
-- kept by a trigger once per statement that writes journal lines, so the
-- posting guard (never-negative balances) and the ledger's balances read one
-- row per account instead of every line ever posted.
CREATE TABLE account_balances (
    account     TEXT NOT NULL,
    branch_id   BIGINT NOT NULL,
    officer_id  BIGINT NOT NULL DEFAULT 0,
    campaign_id BIGINT NOT NULL DEFAULT 0,
    debit       BIGINT NOT NULL DEFAULT 0,
    credit      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account, branch_id, officer_id, campaign_id)
);
CREATE INDEX account_balances_branch ON account_balances (branch_id);

INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
SELECT account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0), SUM(debit), SUM(credit)
FROM journal_lines GROUP BY account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0);

CREATE FUNCTION journal_lines_balances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
    SELECT account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0), SUM(debit), SUM(credit)
    FROM new_rows GROUP BY account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0)
    ON CONFLICT (account, branch_id, officer_id, campaign_id) DO UPDATE
        SET debit = account_balances.debit + excluded.debit, credit = account_balances.credit + excluded.credit;
    RETURN NULL;
END;
$$;
CREATE TRIGGER journal_lines_balances AFTER INSERT ON journal_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION journal_lines_balances();
