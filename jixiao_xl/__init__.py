"""jixiao-xl: generate, import, check and consolidate Chinese budget performance-goal tables (绩效目标表)."""

__version__ = "0.1.0"
