"""The workspace as a small intranet site (``jixiao-xl serve``, DESIGN §10).

:mod:`.app` builds the Starlette app; :mod:`.units` is the units' side (``/u/<token>``), :mod:`.bureau` the
bureau's pages and ``/api/status``; :mod:`.upload` runs an upload through the import pipeline;
:mod:`.views` reads what the pages show with the CLI's own functions; :mod:`.store` and :mod:`.schema` are
the site's tables in the ledger (links, staff, API tokens, uploads, 审核); :mod:`.links` makes unit links;
:mod:`.security` holds the guards (headers, size limit, token-free access log, login rate limit).
"""
