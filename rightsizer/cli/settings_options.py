"""The settings' flags, made from `rightsizer.config`'s one definition and added to commands.

    @guarded
    @with_settings(*FLEET_KEYS)
    def up(ctx: typer.Context, flags: Flags, *, detach_: bool = False) -> None:
        settings = settings_from(ctx, **flags)

`with_settings` appends one keyword option per key (`--data-dir` for `data_dir`, with the key's
help, variable and default) to the command's signature, as Typer reads it, and hands the
command what was given as `flags` (key -> value, None when the flag was not given). So a key
added to `config` reaches every command that reads its group, and no help text is written twice.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from rightsizer.config import env_name, flag_name, key_default, key_help, key_kind

Flags = dict[str, Any]
PANEL = "Settings (flags > RIGHTSIZER_* > rightsizer.toml > defaults)"


def _option(key: str) -> Any:
    """`Annotated[int | None, typer.Option("--tasks", help=...)]` for one key."""
    help_text = f"{key_help(key)} [{env_name(key)}; default {key_default(key)}]"
    option = typer.Option(flag_name(key), help=help_text, rich_help_panel=PANEL, show_default=False)
    return Annotated[key_kind(key) | None, option]


def with_settings(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the flags of `keys` to a command that takes `flags`; see the module's docstring."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "flags"]
        clash = {p.name for p in own} & set(keys)
        if clash:
            raise TypeError(f"{command.__name__} declares settings flags itself: {sorted(clash)}")
        added = [
            inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=_option(key))
            for key in keys
        ]  # fmt: skip

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            flags = {key: kwargs.pop(key, None) for key in keys}
            return command(*args, flags=flags, **kwargs)

        parameters = [*own, *added]
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate
