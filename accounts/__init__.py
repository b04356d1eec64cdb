"""Who is signed in: citizens and staff, their sessions, sign-in events and the limits on them."""
