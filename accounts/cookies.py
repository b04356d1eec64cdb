"""The pages' session cookies: the citizen's (set by the locker's sign-in, read by the
application pages too) and the staff member's (the desk's)."""

from __future__ import annotations

from web.cookies import SessionCookie

CITIZEN_COOKIE = SessionCookie("sanad_locker")
STAFF_COOKIE = SessionCookie("sanad_desk")
