"""The CLI's subcommands, one module per command group; importing this package registers them all."""

from . import (demo_cmd, generate_cmd, import_cmd, master_cmd, publish_cmd, read_cmd, report_cmd,  # noqa: F401
               rules_cmd, serve_cmd, workspace_cmd)
