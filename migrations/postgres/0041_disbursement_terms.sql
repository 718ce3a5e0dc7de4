-- The loan product's terms a disbursement was asked for on (rate, method,
-- frequency, installments: the schedule the worker was shown), so that an
-- approval after the product changed is refused rather than paid out on
-- terms nobody agreed to. Requests made before this have none.
ALTER TABLE disbursements ADD COLUMN terms TEXT;
