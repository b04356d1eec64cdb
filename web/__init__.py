"""The page toolkit the locker's and intake's pages share, so neither borrows the other's:

- ``pages``: a domain's pages, rendered in the reader's language, its errors shown as pages
- ``templates``: the Jinja environment and the filters every page uses
- ``i18n``: language negotiation, and a translator over each domain's ``messages.yaml``
- ``csrf``: double-submit tokens, and the dependencies that let only genuine forms through
- ``guards``: "signed in" (and "signed in, genuine form") as dependencies of a handler
- ``navigation``: where a page sends the reader back to
- ``cookies``: host-only, HTTP-only cookies, and the session cookie kind
- ``client``: the client's address behind trusted proxies
- ``security``: the headers every answer carries, and the page content policy
- ``request_guard``: bounded work per request (body limits), and those headers on every answer

It imports only the kernel, ``sanad``.
"""
