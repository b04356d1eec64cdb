"""The citizen's locker: every document issued to the citizen, their own uploads, share
links and the access log, and requesters (banks, universities) the citizen lets read
documents over OAuth; as an API and as pages. Signing in is :mod:`accounts`; the pages are
built with :mod:`web`."""
