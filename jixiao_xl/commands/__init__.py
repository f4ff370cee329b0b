"""The CLI's subcommands, one module per command group; importing this package registers them all."""

from . import demo_cmd, generate_cmd, import_cmd, master_cmd, read_cmd, rules_cmd, serve_cmd, workspace_cmd  # noqa: F401
