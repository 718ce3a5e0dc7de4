-- Report summaries (issue 6, item 4): what the daily-collections report needs
-- of the schedules and what the portfolio-at-risk report needs of the loans,
-- kept by triggers in the same statement as the change they sum, so the
-- reports read one row per day and officer, one row per officer, and only the
-- loans that are overdue. Dues and the portfolio belong to the loan's current
-- officer (the worker's officer): reassigning a worker moves them.

-- What the schedules have due on one day for the loans of one officer.
-- A row whose installments fell to 0 (its worker moved) stays and is skipped
-- by the report.
CREATE TABLE report_due (
    day           TEXT NOT NULL,
    branch_id     INTEGER NOT NULL,
    officer_id    INTEGER NOT NULL,
    due           INTEGER NOT NULL DEFAULT 0,
    installments  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, branch_id, officer_id)
) WITHOUT ROWID;
CREATE INDEX report_due_branch ON report_due (branch_id, day);

-- Active loans and their outstanding principal, by the loans' officer.
CREATE TABLE report_portfolio (
    branch_id              INTEGER NOT NULL,
    officer_id             INTEGER NOT NULL,
    loans                  INTEGER NOT NULL DEFAULT 0,
    principal_outstanding  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, officer_id)
) WITHOUT ROWID;

-- The due date of a loan's oldest installment not fully paid (NULL: none).
ALTER TABLE loans ADD COLUMN oldest_unpaid_due TEXT;

INSERT INTO report_due (day, branch_id, officer_id, due, installments)
SELECT i.due_on, w.branch_id, w.officer_id, SUM(i.principal_due + i.interest_due), COUNT(*)
FROM installments i JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
GROUP BY i.due_on, w.branch_id, w.officer_id;

INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
SELECT w.branch_id, w.officer_id, COUNT(*), SUM(l.principal_outstanding)
FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.status = 'active'
GROUP BY w.branch_id, w.officer_id;

UPDATE loans SET oldest_unpaid_due = (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = loans.id
    AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due));

-- Portfolio at risk: the active loans by their oldest unpaid due date (the
-- overdue ones are a short range at the front), then each one's unpaid
-- installments.
CREATE INDEX loans_active_oldest_unpaid ON loans (oldest_unpaid_due, worker_id, principal_outstanding)
    WHERE status = 'active';
CREATE INDEX installments_unpaid_loan
    ON installments (loan_id, due_on, principal_due, principal_paid, interest_due, interest_paid)
    WHERE principal_paid < principal_due OR interest_paid < interest_due;

-- Installments: their dues (by the loan's worker's officer) and the loan's
-- oldest unpaid due date.
CREATE TRIGGER installments_summaries_insert AFTER INSERT ON installments
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT NEW.due_on, w.branch_id, w.officer_id, NEW.principal_due + NEW.interest_due, 1
    FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.id = NEW.loan_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    UPDATE loans SET oldest_unpaid_due = NEW.due_on
    WHERE id = NEW.loan_id
      AND (NEW.principal_paid < NEW.principal_due OR NEW.interest_paid < NEW.interest_due)
      AND (oldest_unpaid_due IS NULL OR oldest_unpaid_due > NEW.due_on);
END;

CREATE TRIGGER installments_summaries_due AFTER UPDATE OF loan_id, due_on, principal_due, interest_due ON installments
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT OLD.due_on, w.branch_id, w.officer_id, -(OLD.principal_due + OLD.interest_due), -1
    FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.id = OLD.loan_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT NEW.due_on, w.branch_id, w.officer_id, NEW.principal_due + NEW.interest_due, 1
    FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.id = NEW.loan_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
END;

CREATE TRIGGER installments_summaries_unpaid
AFTER UPDATE OF loan_id, due_on, principal_due, interest_due, principal_paid, interest_paid ON installments
WHEN OLD.loan_id <> NEW.loan_id OR OLD.due_on <> NEW.due_on
  OR (OLD.principal_paid < OLD.principal_due OR OLD.interest_paid < OLD.interest_due)
     <> (NEW.principal_paid < NEW.principal_due OR NEW.interest_paid < NEW.interest_due)
BEGIN
    UPDATE loans SET oldest_unpaid_due = (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = loans.id
        AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due))
    WHERE id IN (OLD.loan_id, NEW.loan_id);
END;

CREATE TRIGGER installments_summaries_delete AFTER DELETE ON installments
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT OLD.due_on, w.branch_id, w.officer_id, -(OLD.principal_due + OLD.interest_due), -1
    FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.id = OLD.loan_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    UPDATE loans SET oldest_unpaid_due = (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = loans.id
        AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due))
    WHERE id = OLD.loan_id;
END;

-- Loans: the portfolio (active loans and their outstanding principal).
CREATE TRIGGER loans_summaries_insert AFTER INSERT ON loans WHEN NEW.status = 'active'
BEGIN
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, 1, NEW.principal_outstanding FROM workers w WHERE w.id = NEW.worker_id
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
END;

CREATE TRIGGER loans_summaries_update AFTER UPDATE OF status, principal_outstanding, worker_id ON loans
BEGIN
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, -1, -OLD.principal_outstanding FROM workers w
    WHERE w.id = OLD.worker_id AND OLD.status = 'active'
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, 1, NEW.principal_outstanding FROM workers w
    WHERE w.id = NEW.worker_id AND NEW.status = 'active'
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
END;

-- A loan moved to another worker takes its dues along.
CREATE TRIGGER loans_summaries_worker AFTER UPDATE OF worker_id ON loans WHEN OLD.worker_id <> NEW.worker_id
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT i.due_on, w.branch_id, w.officer_id, -SUM(i.principal_due + i.interest_due), -COUNT(*)
    FROM installments i JOIN workers w ON w.id = OLD.worker_id WHERE i.loan_id = OLD.id
    GROUP BY i.due_on, w.branch_id, w.officer_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT i.due_on, w.branch_id, w.officer_id, SUM(i.principal_due + i.interest_due), COUNT(*)
    FROM installments i JOIN workers w ON w.id = NEW.worker_id WHERE i.loan_id = NEW.id
    GROUP BY i.due_on, w.branch_id, w.officer_id
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
END;

CREATE TRIGGER loans_summaries_delete AFTER DELETE ON loans WHEN OLD.status = 'active'
BEGIN
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, -1, -OLD.principal_outstanding FROM workers w WHERE w.id = OLD.worker_id
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
END;

-- A worker given to another officer (or branch): their loans' dues and
-- portfolio move with them.
CREATE TRIGGER workers_summaries_officer AFTER UPDATE OF officer_id, branch_id ON workers
WHEN OLD.officer_id <> NEW.officer_id OR OLD.branch_id <> NEW.branch_id
BEGIN
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT i.due_on, OLD.branch_id, OLD.officer_id, -SUM(i.principal_due + i.interest_due), -COUNT(*)
    FROM loans l JOIN installments i ON i.loan_id = l.id WHERE l.worker_id = OLD.id
    GROUP BY i.due_on
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT i.due_on, NEW.branch_id, NEW.officer_id, SUM(i.principal_due + i.interest_due), COUNT(*)
    FROM loans l JOIN installments i ON i.loan_id = l.id WHERE l.worker_id = NEW.id
    GROUP BY i.due_on
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = due + excluded.due, installments = installments + excluded.installments;
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT OLD.branch_id, OLD.officer_id, -COUNT(*), -SUM(l.principal_outstanding)
    FROM loans l WHERE l.worker_id = OLD.id AND l.status = 'active' GROUP BY l.worker_id
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT NEW.branch_id, NEW.officer_id, COUNT(*), SUM(l.principal_outstanding)
    FROM loans l WHERE l.worker_id = NEW.id AND l.status = 'active' GROUP BY l.worker_id
    ON CONFLICT (branch_id, officer_id) DO UPDATE SET loans = loans + excluded.loans,
        principal_outstanding = principal_outstanding + excluded.principal_outstanding;
END;
