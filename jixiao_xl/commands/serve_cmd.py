"""`jixiao-xl serve`, `links`, `token create`, `user add` and `review`: the workspace as a small intranet site."""

from __future__ import annotations

import json
import sys

import click

from ..errors import EXIT_OK, InputError
from ..workspace import Workspace
from .common import active_workspace, chinese, examples


def _workspace() -> Workspace:
    """The workspace these commands need (they have no meaning outside one)."""
    workspace = active_workspace()
    if workspace is None:
        raise InputError("该命令需要在工作区中运行：请进入 jixiao-xl init 建立的文件夹，或用 --workspace 指定。")
    return workspace


def _master_units(workspace: Workspace) -> list[str]:
    from ..master import load_master

    return [unit.code for unit in load_master(workspace.master).units]


@chinese.command("serve", epilog=examples(
    ("在工作区中：启动填报网站（只在本机可访问，放在 HTTPS 反向代理之后）", "cd 2026年绩效目标 && jixiao-xl serve"),
    ("直接对局域网开放，端口 8080", "cd 2026年绩效目标 && jixiao-xl serve --host 0.0.0.0 --port 8080"),
    ("不进入工作区：用 --workspace 指定", "jixiao-xl --workspace 2026年绩效目标 serve --max-upload-mb 50")))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听地址。默认只在本机可访问；放在反向代理之后时保持默认，直接对局域网开放时填 0.0.0.0。")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="监听端口。")
@click.option("--max-upload-mb", type=click.IntRange(1, 1024), default=20, show_default=True, help="单个上传请求的大小上限（MB）。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def serve_command(host: str, port: int, max_upload_mb: int) -> int:
    """启动填报网站：各单位用专用链接上传报表、立即看到核对结果；主管部门登录后查看全部单位的报送情况。

    \b
    单位的链接用 jixiao-xl links 生成；主管部门的账号用 jixiao-xl user add 建立。
    对外提供服务时请放在 HTTPS 反向代理（如 nginx）之后，见 README。按 Ctrl+C 停止。
    """
    import logging

    import uvicorn

    from ..serve.app import create_app

    workspace = _workspace()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    app = create_app(workspace, upload_limit=max_upload_mb * 1024 * 1024)
    click.echo(f"填报网站：http://{host}:{port}/ （工作区 {workspace.root}）；按 Ctrl+C 停止。")
    # uvicorn's access log would write every unit's token; the app logs requests with tokens redacted.
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=True, server_header=False,
                log_level="info")
    return EXIT_OK


@chinese.command("links", epilog=examples(
    ("在工作区中：列出各单位的填报链接", "cd 2026年绩效目标 && jixiao-xl links"),
    ("某单位的链接泄露：换发新链接，旧链接立即失效", "cd 2026年绩效目标 && jixiao-xl links --rotate 435001"),
    ("以 JSON 输出，供群发通知的脚本使用", "jixiao-xl --workspace 2026年绩效目标 links --json")))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出：一个对象，单位编码 → 完整链接。")
@click.option("--rotate", "rotate", multiple=True, metavar="UNIT", help="为该单位换发新链接，旧链接立即失效；可重复。")
@click.option("--revoke", "revoke", multiple=True, metavar="UNIT", help="停用该单位的链接（之后运行 links 会换发新链接）；可重复。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def links_command(as_json: bool, rotate: tuple[str, ...], revoke: tuple[str, ...]) -> int:
    """列出各单位的专用填报链接（地址取自 jixiao.toml 的 [serve] base_url）。

    \b
    链接中的令牌只保存其摘要；链接由工作区的密钥文件 .jixiao-serve.key 算出，请勿外传该文件。
    某单位的链接泄露时用 --rotate 单位编码 换发，旧链接立即失效。
    """
    from ..serve.links import unit_links
    from ..serve.store import Store

    workspace = _workspace()
    codes = _master_units(workspace)
    unknown = [code for code in (*rotate, *revoke) if code not in codes]
    if unknown:
        raise InputError(f"主数据中没有单位编码 {'、'.join(unknown)}；请检查 --rotate/--revoke 参数。")
    if revoke:
        with Store.open(workspace.ledger) as store:
            for code in revoke:
                store.revoke_link(code)
        click.echo(f"已停用 {'、'.join(revoke)} 的链接。", err=True)
        codes = [code for code in codes if code not in revoke]
    links = unit_links(workspace, codes, rotate=rotate)
    if as_json:
        click.echo(json.dumps(links, ensure_ascii=False, indent=1))
    else:
        for code, url in links.items():
            click.echo(f"{code}\t{url}")
    return EXIT_OK


@chinese.group("token", epilog=examples(
    ("在工作区中：生成一个 API 令牌（只显示这一次）", "cd 2026年绩效目标 && jixiao-xl token create"),
    ("不进入工作区，令牌保存到文件", "jixiao-xl --workspace 2026年绩效目标 token create > api令牌.txt")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def token_group() -> None:
    """API 令牌：供脚本读取 /api/status。"""


@token_group.command("create", epilog=examples(
    ("在工作区中：生成一个 API 令牌（只显示这一次）", "cd 2026年绩效目标 && jixiao-xl token create"),
    ("保存到文件，供脚本读取", "jixiao-xl --workspace 2026年绩效目标 token create > api令牌.txt")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def token_create() -> int:
    """生成一个新的 API 令牌，只在标准输出打印令牌本身（只显示这一次，台账中只保存其摘要）。

    \b
    用法：curl -H "Authorization: Bearer 令牌" https://网站地址/api/status
    """
    from ..serve.store import Store

    workspace = _workspace()
    with Store.open(workspace.ledger) as store:
        click.echo(store.create_api_token())
    return EXIT_OK


@chinese.group("user", epilog=examples(
    ("在工作区中：建立账号 张三，在提示符下输入两次密码", "cd 2026年绩效目标 && jixiao-xl user add 张三"),
    ("不进入工作区，从文件读入密码（文件第一行是密码）", "jixiao-xl --workspace 2026年绩效目标 user add 张三 < 密码.txt")))
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def user_group() -> None:
    """主管部门工作人员的网站账号。"""


@user_group.command("add", epilog=examples(
    ("在工作区中：建立账号 张三（已有则重设密码），在提示符下输入两次密码", "cd 2026年绩效目标 && jixiao-xl user add 张三"),
    ("脚本中：从文件读入密码（文件第一行是密码）", "jixiao-xl --workspace 2026年绩效目标 user add 张三 < 密码.txt")))
@click.argument("name")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def user_add(name: str) -> int:
    """建立账号 NAME（已有则重设密码）。密码在提示符下输入；脚本中可从标准输入传入。"""
    from ..serve.store import Store

    workspace = _workspace()
    name = name.strip()
    if not name or len(name) > 64:
        raise InputError("用户名不能为空，也不能超过 64 个字符。")
    if sys.stdin.isatty():
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次密码")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise InputError("密码至少需要 8 个字符。")
    with Store.open(workspace.ledger) as store:
        created = store.set_user(name, password)
    click.echo(f"已{'建立' if created else '重设'}账号 {name}。")
    return EXIT_OK


@chinese.command("review", epilog=examples(
    ("在工作区中：审核通过单位 435001 当前有效的报送", "cd 2026年绩效目标 && jixiao-xl review 435001 --pass"),
    ("退回并写明原因（单位在填报页面可见）", "cd 2026年绩效目标 && jixiao-xl review 435001 --return \"支出计划未填写，请补充后重新上传\""),
    ("注明审核人", "jixiao-xl --workspace 2026年绩效目标 review 435001 --pass --by 李四")))
@click.argument("unit")
@click.option("--pass", "passed", is_flag=True, help="审核通过该单位的有效报送。")
@click.option("--return", "returned", default=None, metavar="REASON", help="退回该单位的有效报送，并写明原因（单位在填报页面可见）。")
@click.option("--by", "reviewer", default=None, help="审核人（默认：当前系统用户名）。")
@click.option("--import", "import_id", type=int, default=None, metavar="N",
              help="审核该单位的第 N 号导入（默认：当前有效的报送）；如核对报告提示 L-OLDER，通过后该文件即计入。")
@click.help_option("-h", "--help", help="显示本帮助并退出。")
def review_command(unit: str, passed: bool, returned: str | None, reviewer: str | None, import_id: int | None) -> int:
    """审核单位 UNIT 当前有效的报送：--pass 通过，或 --return 原因 退回。

    \b
    单位重新上传后，审核状态回到“待审核”。每次审核意见连同审核人、时间记入台账。
    """
    import getpass

    from ..master import load_master
    from ..serve.bureau import ReviewError, record_review
    from ..ledger.reviews import PASS, RETURN

    if passed == (returned is not None):
        raise click.UsageError("请指定 --pass 或 --return 原因 其中之一。")
    workspace = _workspace()
    who = reviewer or getpass.getuser()
    try:
        import_id = record_review(workspace, load_master(workspace.master), unit, PASS if passed else RETURN,
                                  (returned or "").strip(), who, import_id)
    except ReviewError as exc:
        raise InputError(str(exc)) from None
    click.echo(f"已{'通过' if passed else '退回'}单位 {unit} 的报送（第 {import_id} 号导入），审核人 {who}。")
    return EXIT_OK
