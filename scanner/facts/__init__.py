"""The facts stage: what a package shows, derived once from its texts and read by every rule.

parse (scanner.parsers) -> facts (here) -> rules (scanner.rules) -> engine -> formatters. Modules:
``numbers`` (filing-number shapes), ``links`` (filing-system hosts), ``context`` (about / settings
places, declaration texts), ``permissions`` (permission tables), ``api_calls`` (mini-program privacy
APIs), ``locate`` (line of an offset), ``kinds`` (the package's effective kind), ``catalog`` (the JSON
tables in ``data/``) and ``derive`` (the whole stage). Importing one of them loads no rule.
"""
