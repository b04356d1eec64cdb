"""The page toolkit the locker's and intake's pages share: templates, rendering, error
pages, CSRF, language negotiation and translation, and the security headers."""
