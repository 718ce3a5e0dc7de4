-- A phone revoked while it still holds unsent records (lost and found, or its
-- officer's account closed) is usually offline long past its access token's
-- life. The refresh tokens revoked with the device stay good for one thing:
-- an access token that only uploads, into quarantine for a supervisor.
-- Tokens revoked because they were superseded or replayed never are.
ALTER TABLE refresh_tokens ADD COLUMN for_quarantine BOOLEAN NOT NULL DEFAULT FALSE;

-- The tokens revoked with their device so far: revoked in the same
-- transaction, at the same instant.
UPDATE refresh_tokens SET for_quarantine = TRUE
WHERE revoked_at IS NOT NULL
  AND revoked_at = (SELECT d.revoked_at FROM devices d WHERE d.id = refresh_tokens.device_id);
