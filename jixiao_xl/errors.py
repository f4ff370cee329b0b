"""The exceptions that reach the command line, each with its exit code (DESIGN §8).

Policy: raise when processing cannot continue at all (a missing master, an unusable option); record a
:class:`~jixiao_xl.findings.Finding` for anything wrong in the data. Messages are one Chinese sentence
that says what is wrong and how to fix it.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class JixiaoError(Exception):
    """An expected failure: shown to the user as its message, exits with ``exit_code``."""

    exit_code = EXIT_USAGE


class InputError(JixiaoError):
    """Input that cannot be processed at all (missing master, unreadable template...)."""
