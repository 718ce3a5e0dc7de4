-- Account balances by branch and sub-ledger (officer, campaign; 0 for none),
-- kept by a trigger in the statement that writes each journal line, so the
-- posting guard (never-negative balances) and the ledger's balances read one
-- row per account instead of every line ever posted.
CREATE TABLE account_balances (
    account     TEXT NOT NULL,
    branch_id   INTEGER NOT NULL,
    officer_id  INTEGER NOT NULL DEFAULT 0,
    campaign_id INTEGER NOT NULL DEFAULT 0,
    debit       INTEGER NOT NULL DEFAULT 0,
    credit      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, branch_id, officer_id, campaign_id)
);
CREATE INDEX account_balances_branch ON account_balances (branch_id);

INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
SELECT account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0), SUM(debit), SUM(credit)
FROM journal_lines GROUP BY account, branch_id, COALESCE(officer_id, 0), COALESCE(campaign_id, 0);

CREATE TRIGGER journal_lines_balances AFTER INSERT ON journal_lines
BEGIN
    INSERT INTO account_balances (account, branch_id, officer_id, campaign_id, debit, credit)
    VALUES (NEW.account, NEW.branch_id, COALESCE(NEW.officer_id, 0), COALESCE(NEW.campaign_id, 0), NEW.debit, NEW.credit)
    ON CONFLICT (account, branch_id, officer_id, campaign_id) DO UPDATE
        SET debit = account_balances.debit + excluded.debit, credit = account_balances.credit + excluded.credit;
END;
