"""The CLI's subcommands, one module per stage; cli.py's table (:data:`jixiao_xl.cli.SUBCOMMANDS`) names the
module and attribute of each, and the root group imports a module only when one of its commands is used.
What the modules share (Chinese help, the 示例 epilog, the workspace, common options) is in :mod:`.common`."""
