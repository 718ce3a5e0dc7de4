-- Each loan carries its worker's branch and officer (the loan's current
-- officer), kept by triggers, so portfolio at risk reads the overdue loans
-- from one index without joining every worker.
ALTER TABLE loans ADD COLUMN worker_branch_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN worker_officer_id INTEGER NOT NULL DEFAULT 0;
UPDATE loans SET worker_branch_id = w.branch_id, worker_officer_id = w.officer_id
FROM workers w WHERE w.id = loans.worker_id;

CREATE TRIGGER loans_worker_officer_insert AFTER INSERT ON loans
BEGIN
    UPDATE loans SET worker_branch_id = w.branch_id, worker_officer_id = w.officer_id
    FROM workers w WHERE w.id = NEW.worker_id AND loans.id = NEW.id;
END;
CREATE TRIGGER loans_worker_officer_update AFTER UPDATE OF worker_id ON loans
BEGIN
    UPDATE loans SET worker_branch_id = w.branch_id, worker_officer_id = w.officer_id
    FROM workers w WHERE w.id = NEW.worker_id AND loans.id = NEW.id;
END;
CREATE TRIGGER workers_loans_officer AFTER UPDATE OF officer_id, branch_id ON workers
BEGIN
    UPDATE loans SET worker_branch_id = NEW.branch_id, worker_officer_id = NEW.officer_id
    WHERE worker_id = NEW.id;
END;

DROP INDEX loans_active_oldest_unpaid;
CREATE INDEX loans_active_oldest_unpaid
    ON loans (oldest_unpaid_due, worker_branch_id, worker_officer_id, principal_outstanding)
    WHERE status = 'active';
