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
    day           DATE NOT NULL,
    branch_id     BIGINT NOT NULL,
    officer_id    BIGINT NOT NULL,
    due           BIGINT NOT NULL DEFAULT 0,
    installments  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, branch_id, officer_id)
);
CREATE INDEX report_due_branch ON report_due (branch_id, day);

-- Active loans and their outstanding principal, by the loans' officer.
CREATE TABLE report_portfolio (
    branch_id              BIGINT NOT NULL,
    officer_id             BIGINT NOT NULL,
    loans                  BIGINT NOT NULL DEFAULT 0,
    principal_outstanding  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, officer_id)
);

-- The due date of a loan's oldest installment not fully paid (NULL: none).
ALTER TABLE loans ADD COLUMN oldest_unpaid_due DATE;

INSERT INTO report_due (day, branch_id, officer_id, due, installments)
SELECT i.due_on, w.branch_id, w.officer_id, SUM(i.principal_due + i.interest_due), COUNT(*)
FROM installments i JOIN loans l ON l.id = i.loan_id JOIN workers w ON w.id = l.worker_id
GROUP BY i.due_on, w.branch_id, w.officer_id;

INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
SELECT w.branch_id, w.officer_id, COUNT(*), SUM(l.principal_outstanding)
FROM loans l JOIN workers w ON w.id = l.worker_id WHERE l.status = 'active'
GROUP BY w.branch_id, w.officer_id;

UPDATE loans SET oldest_unpaid_due = u.oldest
FROM (SELECT loan_id, MIN(due_on) AS oldest FROM installments
      WHERE principal_paid < principal_due OR interest_paid < interest_due GROUP BY loan_id) AS u
WHERE u.loan_id = loans.id;

-- Portfolio at risk: the active loans by their oldest unpaid due date (the
-- overdue ones are a short range at the front), then each one's unpaid
-- installments.
CREATE INDEX loans_active_oldest_unpaid ON loans (oldest_unpaid_due) INCLUDE (worker_id, principal_outstanding)
    WHERE status = 'active';
CREATE INDEX installments_unpaid_loan ON installments (loan_id, due_on)
    INCLUDE (principal_due, principal_paid, interest_due, interest_paid)
    WHERE principal_paid < principal_due OR interest_paid < interest_due;

-- Adds `amount` and `n` installments to the dues of `on_day` for the officer
-- of `of_worker`.
CREATE FUNCTION report_due_add(of_worker BIGINT, on_day DATE, amount BIGINT, n BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_due (day, branch_id, officer_id, due, installments)
    SELECT on_day, w.branch_id, w.officer_id, amount, n FROM workers w WHERE w.id = of_worker
    ON CONFLICT (day, branch_id, officer_id) DO UPDATE
        SET due = report_due.due + excluded.due, installments = report_due.installments + excluded.installments;
$$;

-- Adds `n` loans and `outstanding` to the portfolio of the officer of `of_worker`.
CREATE FUNCTION report_portfolio_add(of_worker BIGINT, n BIGINT, outstanding BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
    SELECT w.branch_id, w.officer_id, n, outstanding FROM workers w WHERE w.id = of_worker
    ON CONFLICT (branch_id, officer_id) DO UPDATE
        SET loans = report_portfolio.loans + excluded.loans,
            principal_outstanding = report_portfolio.principal_outstanding + excluded.principal_outstanding;
$$;

CREATE FUNCTION loans_refresh_oldest_unpaid(of_loan BIGINT) RETURNS void LANGUAGE sql AS $$
    UPDATE loans SET oldest_unpaid_due = (SELECT MIN(i.due_on) FROM installments i WHERE i.loan_id = of_loan
        AND (i.principal_paid < i.principal_due OR i.interest_paid < i.interest_due))
    WHERE id = of_loan;
$$;

CREATE FUNCTION loan_worker(of_loan BIGINT) RETURNS BIGINT LANGUAGE sql STABLE AS $$
    SELECT worker_id FROM loans WHERE id = of_loan;
$$;

-- Installments: their dues (by the loan's worker's officer) and the loan's
-- oldest unpaid due date.
CREATE FUNCTION installments_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_due_add(loan_worker(NEW.loan_id), NEW.due_on, NEW.principal_due + NEW.interest_due, 1);
        IF NEW.principal_paid < NEW.principal_due OR NEW.interest_paid < NEW.interest_due THEN
            UPDATE loans SET oldest_unpaid_due = NEW.due_on
            WHERE id = NEW.loan_id AND (oldest_unpaid_due IS NULL OR oldest_unpaid_due > NEW.due_on);
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_due_add(loan_worker(OLD.loan_id), OLD.due_on, -(OLD.principal_due + OLD.interest_due), -1);
        PERFORM loans_refresh_oldest_unpaid(OLD.loan_id);
        RETURN OLD;
    END IF;
    IF OLD.loan_id <> NEW.loan_id OR OLD.due_on <> NEW.due_on
       OR OLD.principal_due <> NEW.principal_due OR OLD.interest_due <> NEW.interest_due THEN
        PERFORM report_due_add(loan_worker(OLD.loan_id), OLD.due_on, -(OLD.principal_due + OLD.interest_due), -1);
        PERFORM report_due_add(loan_worker(NEW.loan_id), NEW.due_on, NEW.principal_due + NEW.interest_due, 1);
    END IF;
    IF OLD.loan_id <> NEW.loan_id OR OLD.due_on <> NEW.due_on
       OR (OLD.principal_paid < OLD.principal_due OR OLD.interest_paid < OLD.interest_due)
          <> (NEW.principal_paid < NEW.principal_due OR NEW.interest_paid < NEW.interest_due) THEN
        PERFORM loans_refresh_oldest_unpaid(OLD.loan_id);
        IF NEW.loan_id <> OLD.loan_id THEN
            PERFORM loans_refresh_oldest_unpaid(NEW.loan_id);
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER installments_summaries AFTER INSERT OR UPDATE OR DELETE ON installments
    FOR EACH ROW EXECUTE FUNCTION installments_summaries();

-- Loans: the portfolio (active loans and their outstanding principal); a
-- loan moved to another worker takes its dues along.
CREATE FUNCTION loans_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r RECORD;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status = 'active' THEN
            PERFORM report_portfolio_add(NEW.worker_id, 1, NEW.principal_outstanding);
        END IF;
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        IF OLD.status = 'active' THEN
            PERFORM report_portfolio_add(OLD.worker_id, -1, -OLD.principal_outstanding);
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IS DISTINCT FROM NEW.status OR OLD.worker_id <> NEW.worker_id
       OR OLD.principal_outstanding <> NEW.principal_outstanding THEN
        IF OLD.status = 'active' THEN
            PERFORM report_portfolio_add(OLD.worker_id, -1, -OLD.principal_outstanding);
        END IF;
        IF NEW.status = 'active' THEN
            PERFORM report_portfolio_add(NEW.worker_id, 1, NEW.principal_outstanding);
        END IF;
    END IF;
    IF OLD.worker_id <> NEW.worker_id THEN
        FOR r IN SELECT i.due_on, CAST(SUM(i.principal_due + i.interest_due) AS BIGINT) AS due, COUNT(*) AS n
                 FROM installments i WHERE i.loan_id = NEW.id GROUP BY i.due_on LOOP
            PERFORM report_due_add(OLD.worker_id, r.due_on, -r.due, -r.n);
            PERFORM report_due_add(NEW.worker_id, r.due_on, r.due, r.n);
        END LOOP;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER loans_summaries AFTER INSERT OR DELETE OR UPDATE OF status, principal_outstanding, worker_id ON loans
    FOR EACH ROW EXECUTE FUNCTION loans_summaries();

-- A worker given to another officer (or branch): their loans' dues and
-- portfolio move with them.
CREATE FUNCTION workers_summaries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.officer_id <> OLD.officer_id OR NEW.branch_id <> OLD.branch_id THEN
        INSERT INTO report_due (day, branch_id, officer_id, due, installments)
        SELECT d.day, d.branch_id, d.officer_id, SUM(d.due), SUM(d.n)
        FROM (SELECT i.due_on AS day, OLD.branch_id AS branch_id, OLD.officer_id AS officer_id,
                     -(i.principal_due + i.interest_due) AS due, -1 AS n
              FROM loans l JOIN installments i ON i.loan_id = l.id WHERE l.worker_id = OLD.id
              UNION ALL
              SELECT i.due_on, NEW.branch_id, NEW.officer_id, i.principal_due + i.interest_due, 1
              FROM loans l JOIN installments i ON i.loan_id = l.id WHERE l.worker_id = NEW.id) AS d
        GROUP BY d.day, d.branch_id, d.officer_id
        ON CONFLICT (day, branch_id, officer_id) DO UPDATE
            SET due = report_due.due + excluded.due, installments = report_due.installments + excluded.installments;
        INSERT INTO report_portfolio (branch_id, officer_id, loans, principal_outstanding)
        SELECT p.branch_id, p.officer_id, SUM(p.n), SUM(p.outstanding)
        FROM (SELECT OLD.branch_id AS branch_id, OLD.officer_id AS officer_id, -1 AS n,
                     -l.principal_outstanding AS outstanding
              FROM loans l WHERE l.worker_id = OLD.id AND l.status = 'active'
              UNION ALL
              SELECT NEW.branch_id, NEW.officer_id, 1, l.principal_outstanding
              FROM loans l WHERE l.worker_id = NEW.id AND l.status = 'active') AS p
        GROUP BY p.branch_id, p.officer_id
        ON CONFLICT (branch_id, officer_id) DO UPDATE
            SET loans = report_portfolio.loans + excluded.loans,
                principal_outstanding = report_portfolio.principal_outstanding + excluded.principal_outstanding;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER workers_summaries AFTER UPDATE OF officer_id, branch_id ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_summaries();
