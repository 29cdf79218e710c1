"""A click group whose subcommands are imported only when used, so ``convapps --help`` stays instant
and no model library (torch, dlib) is imported for commands that do not need it."""

from __future__ import annotations

import importlib

import click


class LazyGroup(click.Group):
    """Group whose subcommands are given as ``{"name": "module.path:attribute"}``."""

    def __init__(self, *args: object, lazy_subcommands: dict[str, str] | None = None, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_subcommands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            module_name, attribute = self.lazy_subcommands[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy_subcommands[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)
