"""Who is signed in, citizens and staff alike, and the limits on signing in:

- ``citizens``: one-time codes to a mobile number, and the citizen's session
- ``staff``: staff accounts, password sign-in and the lockout
- ``passwords``: argon2id password hashes
- ``sessions``: the one session mechanism both use (token, hash, lookup, expiry, end)
- ``limits``: attempts counted per number, address or name within a window, exactly
  even when requests race (each takes its turn on the limit's key)
- ``emails``: e-mail addresses whose readers confirmed them, before notices go there
- ``cookies`` and ``dependencies``: the pages' session cookies, and who they sign in
- ``models``, ``repository``, ``exceptions``: the tables, their queries, the refusals
- ``cli``: `sanad staff add`

It imports only the kernel (``sanad``) and the page toolkit (``web``).
"""
