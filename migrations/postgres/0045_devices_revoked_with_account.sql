-- A device revoked because its account was closed says so in a column of
-- its own: reopening the account lifts those revocations only, never one
-- a supervisor made for the phone itself (lost, stolen), whatever its
-- reason says. Those revoked before are known by the reason the closing
-- wrote, on an account still closed (reopening one lifted every such
-- revocation, so one left on an open account was a supervisor's).
ALTER TABLE devices ADD COLUMN revoked_with_account BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE devices SET revoked_with_account = TRUE
WHERE revoked_at IS NOT NULL AND revoke_reason LIKE 'Tài khoản bị khóa: %'
  AND user_id IN (SELECT id FROM users WHERE NOT active);
