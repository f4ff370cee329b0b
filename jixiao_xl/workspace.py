"""The year as a workspace: one folder holding the master, the issued forms, the returns and the ledger (DESIGN §10).

``jixiao-xl init DIR`` writes ``jixiao.toml`` (the configuration), ``主数据.xlsx`` and the folders 下发/ 收件/
原件/ 核对/ 汇总/ 公开/ beside ``ledger.sqlite``. Every command finds the workspace the way git finds a
repository (:func:`find_workspace`): ``--workspace DIR``, else ``JIXIAO_WORKSPACE``, else the current folder
or the nearest parent holding ``jixiao.toml``; the workspace then supplies every path the command would
otherwise need as a flag, and explicit flags still win.

The configuration is written by :func:`render_config` (our own TOML, strings escaped) and read back with
tomllib; an unknown key or a value of the wrong type is an error naming the key and its line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

CONFIG_NAME = "jixiao.toml"
MASTER_NAME = "主数据.xlsx"
LEDGER_NAME = "ledger.sqlite"
ENV_VARIABLE = "JIXIAO_WORKSPACE"
DEFAULT_PASSWORD = "jixiao"
# The names a master is looked for under in the current folder when no workspace and no --master is given.
MASTER_CANDIDATES = (MASTER_NAME, "master.xlsx")

# Folder key → (default folder name, what it holds), in the order init creates them.
FOLDERS = {
    "issued": ("下发", "generate 生成的各单位工作簿、通知和 manifest.csv"),
    "inbox": ("收件", "各单位报回的文件，jixiao-xl import 默认导入这里"),
    "originals": ("原件", "导入过的每个文件的原样副本（按内容保存，不重复）"),
    "checked": ("核对", "每次导入的核对报告和退回修改表"),
    "consolidated": ("汇总", "汇总表"),
    "public": ("公开", "对外公开的文本"),
}

# Table → key → (type, default, comment). The one description both the writer and the reader use.
_SCHEMA: dict[str, dict[str, tuple[type, Any, str]]] = {
    "": {
        "year": (int, 0, "预算年度"),
    },
    "files": {
        "master": (str, MASTER_NAME, "主数据文件（相对于本文件夹）"),
        "project_template": (str, "", "自定义的项目支出绩效目标表模板；留空使用自带模板"),
        "dept_template": (str, "", "自定义的部门整体支出绩效目标表模板；留空使用自带模板"),
        "rules": (str, "", "规则配置 rules.toml（停用规则或调整严重程度）；留空使用默认规则"),
        "ledger": (str, LEDGER_NAME, "台账（SQLite 文件）"),
    },
    "folders": {key: (str, name, what) for key, (name, what) in FOLDERS.items()},
    "issue": {
        "password": (str, DEFAULT_PASSWORD, "工作表保护密码"),
        "deadline": (str, "", "报送截止日期，写入填报说明和通知，例如 “2025年3月15日”"),
    },
    "serve": {
        "base_url": (str, "", "填报网站的对外地址（以后用 jixiao-xl serve 时填写），例如 https://jixiao.example.gov.cn"),
    },
}
_TABLE_TITLES = {"files": "文件", "folders": "文件夹（相对于本文件夹）", "issue": "下发", "serve": "填报网站"}


@dataclass(frozen=True)
class Workspace:
    """A workspace as its ``jixiao.toml`` describes it, every path resolved against its folder."""

    root: Path
    year: int
    master: Path
    project_template: Path | None
    dept_template: Path | None
    rules_path: Path | None
    ledger: Path
    issued: Path
    inbox: Path
    originals: Path
    checked: Path
    consolidated: Path
    public: Path
    password: str
    deadline: str
    base_url: str

    @property
    def config_path(self) -> Path:
        """The workspace's ``jixiao.toml``."""
        return self.root / CONFIG_NAME

    @property
    def manifest(self) -> Path:
        """The manifest generate writes into 下发/."""
        return self.issued / "manifest.csv"

    def folders(self) -> list[Path]:
        """Every folder of the workspace, in the order :func:`init_workspace` creates them."""
        return [getattr(self, key) for key in FOLDERS]


# ---------------------------------------------------------------------------------------------------------
# Writing jixiao.toml


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in text:
        if char == '"':
            escaped.append('\\"')
        elif char == "\\":
            escaped.append("\\\\")
        elif char in "\b\t\n\f\r":
            escaped.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            escaped.append(f"\\u{ord(char):04X}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


def render_config(values: dict[str, dict[str, Any]]) -> str:
    """The text of a ``jixiao.toml``: every key of the schema, ``values`` overriding the defaults, with comments."""
    lines = ["# jixiao-xl 工作区配置：一年一个文件夹。路径相对于本文件所在的文件夹。",
             "# 在本文件夹（或其子文件夹）中运行 jixiao-xl 的各个命令时，无需再指定路径参数。", ""]
    for table, keys in _SCHEMA.items():
        if table:
            lines += [f"# {_TABLE_TITLES[table]}", f"[{table}]"]
        for key, (_kind, default, comment) in keys.items():
            value = values.get(table, {}).get(key, default)
            lines.append(f"{key} = {_toml_value(value)}  # {comment}")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Reading jixiao.toml


def _line_of(text: str, table: str, key: str | None) -> int:
    """The line (1-based) where ``key`` is set in ``[table]`` (or the table's header when key is None); 0 if unknown."""
    current = ""
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            current = found.group(1).strip().strip('"')
            if key is None and current == table:
                return number
            continue
        if key is not None and current == table and re.match(rf'^\s*"?{re.escape(key)}"?\s*=', line):
            return number
    return 0


def _at(path: Path, text: str, table: str, key: str | None) -> str:
    line = _line_of(text, table, key)
    return f"{path} 第 {line} 行" if line else str(path)


def _key_name(table: str, key: str) -> str:
    return f"{table}.{key}" if table else key


def _type_name(kind: type) -> str:
    return "整数" if kind is int else "文字（用英文双引号括起来）"


def parse_config(path: Path) -> dict[str, dict[str, Any]]:
    """The values of a ``jixiao.toml`` by table (``""`` for the top level), defaults filled in.

    Raises InputError naming the file, the line and the key for a syntax error, an unknown table or key,
    or a value of the wrong type.
    """
    from .rules.config import toml_error_position, toml_module

    toml = toml_module()
    try:
        text = path.read_bytes().decode("utf-8")
        data = toml.loads(text)
    except OSError as exc:
        raise InputError(f"无法读取工作区配置 {path}（{exc.strerror or exc}）；请检查文件权限。") from None
    except UnicodeDecodeError:
        raise InputError(f"工作区配置 {path} 不是 UTF-8 编码；请用 UTF-8 编码另存后重试。") from None
    except toml.TOMLDecodeError as exc:
        raise InputError(f"工作区配置 {path} {toml_error_position(exc)}格式有误；请按 TOML 格式填写，例如 deadline = \"2025年3月15日\"。") from None
    values: dict[str, dict[str, Any]] = {table: {k: spec[1] for k, spec in keys.items()} for table, keys in _SCHEMA.items()}
    for name, item in data.items():
        if isinstance(item, dict) and name not in _SCHEMA[""]:
            table, entries = name, item
            if table not in _SCHEMA or not table:
                known = "、".join(f"[{t}]" for t in _SCHEMA if t)
                raise InputError(f"工作区配置 {_at(path, text, table, None)}：未知的表 [{table}]；可用的表有 {known}。")
        else:
            table, entries = "", {name: item}
        for key, value in entries.items():
            _check_entry(path, text, table, key, value)
            values[table][key] = value
    return values


def _check_entry(path: Path, text: str, table: str, key: str, value: Any) -> None:
    """Refuse a key the schema does not know, or a value of another type, naming the key and its line."""
    keys = _SCHEMA[table]
    if key not in keys:
        known = "、".join(keys)
        raise InputError(f"工作区配置 {_at(path, text, table, key)}：未知的设置项 {_key_name(table, key)}；"
                         f"{'[' + table + '] 中' if table else '顶层'}可用的设置项有 {known}。")
    kind = keys[key][0]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InputError(f"工作区配置 {_at(path, text, table, key)}：设置项 {_key_name(table, key)} 应为{_type_name(kind)}，"
                         f"现为 {value!r}。")


def _optional_path(root: Path, text: str) -> Path | None:
    return root / text if text else None


def load_workspace(root: Path) -> Workspace:
    """The workspace whose ``jixiao.toml`` is in ``root``."""
    root = Path(root).resolve()
    values = parse_config(root / CONFIG_NAME)
    files, folders, issue = values["files"], values["folders"], values["issue"]
    for key, name in (("master", "files.master"), ("ledger", "files.ledger")):
        if not files[key]:
            raise InputError(f"工作区配置 {_at(root / CONFIG_NAME, (root / CONFIG_NAME).read_text('utf-8'), 'files', key)}："
                             f"设置项 {name} 不能为空。")
    return Workspace(
        root=root, year=values[""]["year"], master=root / files["master"],
        project_template=_optional_path(root, files["project_template"]),
        dept_template=_optional_path(root, files["dept_template"]),
        rules_path=_optional_path(root, files["rules"]), ledger=root / files["ledger"],
        **{key: root / (folders[key] or FOLDERS[key][0]) for key in FOLDERS},
        password=issue["password"], deadline=issue["deadline"], base_url=values["serve"]["base_url"],
    )


# ---------------------------------------------------------------------------------------------------------
# Finding the workspace


def is_workspace(folder: Path) -> bool:
    """True when ``folder`` holds a ``jixiao.toml``."""
    return (Path(folder) / CONFIG_NAME).is_file()


def find_workspace(explicit: str | Path | None = None, start: Path | None = None) -> Workspace | None:
    """The workspace to work in: ``explicit`` (``--workspace``), else ``$JIXIAO_WORKSPACE``, else ``start`` (the
    current folder) or its nearest parent holding ``jixiao.toml``; None outside any workspace.

    A folder named explicitly or by the variable must be a workspace (InputError otherwise): a typo should
    not silently fall back to another folder.
    """
    for chosen, how in ((explicit, "--workspace"), (os.environ.get(ENV_VARIABLE) or None, f"环境变量 {ENV_VARIABLE}")):
        if chosen is not None:
            folder = Path(chosen)
            if not is_workspace(folder):
                raise InputError(f"{how} 指定的 {folder} 不是 jixiao-xl 工作区（其中没有 {CONFIG_NAME}）；"
                                 f"请检查路径，或先运行 jixiao-xl init {folder} 建立工作区。")
            return load_workspace(folder)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_workspace(folder):
            return load_workspace(folder)
    return None


def default_master(workspace: Workspace | None, cwd: Path | None = None) -> Path:
    """The master a command uses when --master is not given: the workspace's, else ``主数据.xlsx`` or
    ``master.xlsx`` in the current folder (``master.xlsx`` when neither exists, so the error names it)."""
    if workspace is not None:
        return workspace.master
    folder = Path(cwd or Path.cwd())
    for name in MASTER_CANDIDATES:
        if (folder / name).exists():
            return Path(name) if cwd is None else folder / name
    return Path("master.xlsx") if cwd is None else folder / "master.xlsx"


def require_ledger(path: Path, workspace: Workspace | None) -> Path:
    """``path`` when the ledger exists; InputError (exit 2) naming the ledger looked for otherwise.

    Commands that only read the year's state call this before opening the ledger, so that they never create one.
    """
    if Path(path).is_file():
        return Path(path)
    where = f"（工作区 {workspace.root}）" if workspace is not None else ""
    raise InputError(f"找不到台账 {path}{where}；还没有下发或导入过表格。请先运行 jixiao-xl generate 和 jixiao-xl import，"
                     "或用 --ledger 指定台账文件、用 --workspace 指定工作区。")


# ---------------------------------------------------------------------------------------------------------
# Creating a workspace


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_workspace` did: the workspace and the pieces it wrote (the others were kept)."""

    workspace: Workspace
    created: tuple[str, ...]


def init_workspace(root: Path, sample: bool = False, year: int | None = None, force: bool = False) -> InitResult:
    """Create a workspace in ``root`` (see the module docstring).

    An existing non-empty folder is refused unless ``force``; with ``force`` only the missing pieces are
    written: an existing ``jixiao.toml`` and an existing master are never overwritten.
    """
    from .ledger import Ledger
    from .master import default_year, load_sample, write_master
    from .model import Master, Settings
    from .safety import write_atomic

    root = Path(root)
    if root.exists() and not root.is_dir():
        raise InputError(f"{root} 是一个文件，不是文件夹；请换一个文件夹名。")
    if root.exists() and any(root.iterdir()) and not force:
        raise InputError(f"文件夹 {root} 不是空的。为避免覆盖已有文件，请换一个新文件夹，"
                         "或加 --force 只补建缺少的部分（已有的配置和主数据不会被覆盖）。")
    root.mkdir(parents=True, exist_ok=True)
    created: list[str] = []
    config = root / CONFIG_NAME
    master_data = load_sample() if sample else None
    if year is None:
        year = master_data.settings.year if master_data is not None else default_year()
    if not config.exists():
        write_atomic(config, render_config({"": {"year": year}}).encode("utf-8"))
        created.append(CONFIG_NAME)
    workspace = load_workspace(root)
    if not workspace.master.exists():
        import dataclasses

        if master_data is None:
            master_data = Master(settings=Settings(year=year))
        elif master_data.settings.year != year:
            master_data = dataclasses.replace(master_data, settings=dataclasses.replace(master_data.settings, year=year))
        workspace.master.parent.mkdir(parents=True, exist_ok=True)
        write_master(workspace.master, master_data)
        created.append(workspace.master.name)
    for folder in workspace.folders():
        if not folder.is_dir():
            folder.mkdir(parents=True)
            created.append(folder.name + "/")
    if not workspace.ledger.exists():
        Ledger.open(workspace.ledger).close()
        created.append(workspace.ledger.name)
    return InitResult(workspace, tuple(created))
