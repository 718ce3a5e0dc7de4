-- Each loan carries its worker's branch and officer (the loan's current
-- officer), kept by triggers, so portfolio at risk reads the overdue loans
-- from one index (an index-only scan) without joining every worker.
ALTER TABLE loans ADD COLUMN worker_branch_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE loans ADD COLUMN worker_officer_id BIGINT NOT NULL DEFAULT 0;
UPDATE loans SET worker_branch_id = w.branch_id, worker_officer_id = w.officer_id
FROM workers w WHERE w.id = loans.worker_id;

CREATE FUNCTION loans_worker_officer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT w.branch_id, w.officer_id INTO NEW.worker_branch_id, NEW.worker_officer_id
    FROM workers w WHERE w.id = NEW.worker_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER loans_worker_officer BEFORE INSERT OR UPDATE OF worker_id ON loans
    FOR EACH ROW EXECUTE FUNCTION loans_worker_officer();

CREATE FUNCTION workers_loans_officer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.officer_id <> OLD.officer_id OR NEW.branch_id <> OLD.branch_id THEN
        UPDATE loans SET worker_branch_id = NEW.branch_id, worker_officer_id = NEW.officer_id
        WHERE worker_id = NEW.id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER workers_loans_officer AFTER UPDATE OF officer_id, branch_id ON workers
    FOR EACH ROW EXECUTE FUNCTION workers_loans_officer();

DROP INDEX loans_active_oldest_unpaid;
CREATE INDEX loans_active_oldest_unpaid ON loans (oldest_unpaid_due)
    INCLUDE (id, worker_branch_id, worker_officer_id, principal_outstanding)
    WHERE status = 'active';
