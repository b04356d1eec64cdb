"""The shared kernel, at the bottom of the package graph: settings, database, object storage,
errors, request dependencies, languages, configuration files, JWS, notifications. It
imports no other package of Sanad."""
