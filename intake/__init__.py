"""Application intake and the Right-to-Service clock: the service catalogue and the forms
generated from it, applications online and at the Sewa Kendra counter, the officer's desk
and decisions, the legal clock in working days with escalation, notices, and pendency.
Citizens and staff sign in through :mod:`accounts`; the pages are built with :mod:`web`."""
