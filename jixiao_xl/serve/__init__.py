"""The workspace as a small intranet site (``jixiao-xl serve``)."""
