"""``convapps serve``: the HTTP API and browser UI; ``convapps serve keys``: manage API keys."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import click

from convapps.errors import InvalidInputError

if TYPE_CHECKING:
    from convapps.web.settings import WebSettings

STATE_DIR_HELP = "folder for API keys, audit log and default gallery [default: $CONVAPPS_HOME or the user data dir]"


class _StateDirKwargs(TypedDict, total=False):
    """WebSettings keyword arguments taken from ``--state-dir`` (absent: WebSettings' default)."""

    state_dir: Path


def _settings_kwargs(state_dir: Path | None) -> _StateDirKwargs:
    if state_dir is None:  # a keys command without its own --state-dir: take `serve --state-dir`, if given
        ctx = click.get_current_context(silent=True)
        state_dir = (ctx.find_object(dict) or {}).get("state_dir") if ctx is not None else None
    return _StateDirKwargs(state_dir=state_dir) if state_dir is not None else _StateDirKwargs()


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise InvalidInputError(f"cannot listen on {host}:{port} ({err.strerror}); try --port {port + 1}") from err


@click.group(invoke_without_command=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. The default is reachable from this machine only.",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--gallery",
    default=None,
    metavar="URL",
    help="Identity gallery: sqlite:///path.db or milvus:///path.db [default: STATE_DIR/gallery.db].",
)
@click.option(
    "--archive-index",
    default=None,
    metavar="URL",
    help="Photo archive index shown on the Archive page (from 'convapps face index') "
    "[default: $CONVAPPS_ARCHIVE_INDEX or STATE_DIR/archive.db].",
)
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=STATE_DIR_HELP)
@click.option(
    "--first-run", is_flag=True, help="Create and print an API key if none exists yet (what `make run` uses)."
)
@click.option(
    "--allow-origin",
    "origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let pages from ORIGIN call the API (CORS). Closed by default; repeat for several.",
)
@click.option(
    "--job-workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Style/visualisation jobs run at once (each uses all CPU cores).",
)
@click.option(
    "--max-upload-mb",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 200),
    help="Largest uploaded file in MiB.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    gallery: str | None,
    archive_index: str | None,
    state_dir: Path | None,
    first_run: bool,
    origins: tuple[str, ...],
    job_workers: int,
    max_upload_mb: float,
) -> None:
    """Start the convapps service: a JSON API and a browser UI in one local process.

    \b
    Pages: people (enroll, list, remove), check (verify, identify), live (webcam), archive (the
    groups of an indexed photo archive: name them, see a person's photos), style (transfer jobs),
    what the net sees (top-patches). Every API call needs an API key:
      convapps serve keys create desk     # prints a new key once; store it
    then open the printed URL and paste the key. The service keeps keys (hashed), an audit log and
    the default gallery under --state-dir. Stop it with Ctrl-C.
    """
    if ctx.invoked_subcommand is not None:  # `serve --state-dir X keys ...` applies X to the keys commands
        ctx.obj = {"state_dir": state_dir}
        return
    from convapps.web.settings import WebSettings

    upload = int(max_upload_mb * 1024 * 1024)
    settings = WebSettings(
        host=host,
        port=port,
        gallery=gallery,
        archive_index=archive_index,
        cors_origins=origins,
        job_workers=job_workers,
        max_upload_bytes=upload,
        max_request_bytes=max(4 * upload, 40 * 1024 * 1024),
        **_settings_kwargs(state_dir),
    )
    _check_port_free(host, port)
    _announce(settings, first_run)
    import uvicorn

    from convapps.web.app import create_app

    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="info", server_header=False, timeout_graceful_shutdown=5
    )


def _announce(settings: WebSettings, first_run: bool) -> None:
    from convapps.web.keys import KeyStore
    from convapps.web.settings import LOOPBACK_HOSTS, ensure_state_dir

    ensure_state_dir(settings.state_dir)
    store = KeyStore(settings.keys_path)
    click.secho(f"convapps service: {settings.url}", bold=True)
    click.echo(f"  state (keys, audit log, gallery): {settings.state_dir}")
    if settings.host not in LOOPBACK_HOSTS:
        click.secho("  warning: listening beyond this machine over plain HTTP; put it behind TLS.", fg="yellow")
    if first_run and not any(k.active for k in store.list()):
        key, plaintext = store.create("first-run")
        click.echo(f"  first API key ({key.id}), shown once; keep it:\n\n    {plaintext}\n")
        click.echo(f"  open {settings.url}#key={plaintext}\n  (or paste the key on the page)")
    elif not any(k.active for k in store.list()):
        click.echo("  no API key yet: create one with `convapps serve keys create NAME`")
    else:
        click.echo("  use an existing API key, or create one with `convapps serve keys create NAME`")


@serve.group()
def keys() -> None:
    """Create, list and revoke API keys (stored hashed; a key is shown only when created)."""


@keys.command("create")
@click.argument("name")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=STATE_DIR_HELP)
def keys_create(name: str, state_dir: Path | None) -> None:
    """Create an API key called NAME (who or what uses it) and print it once."""
    from convapps.web.keys import KeyStore
    from convapps.web.settings import WebSettings, ensure_state_dir

    settings = WebSettings(**_settings_kwargs(state_dir))
    ensure_state_dir(settings.state_dir)
    key, plaintext = KeyStore(settings.keys_path).create(name)
    click.echo(plaintext)
    click.echo(f"created key {key.id} ({key.name}); it is shown only now", err=True)


@keys.command("list")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=STATE_DIR_HELP)
def keys_list(state_dir: Path | None) -> None:
    """List API keys: id, name, created, and whether revoked (secrets are never shown)."""
    from convapps.web.keys import KeyStore
    from convapps.web.settings import WebSettings

    settings = WebSettings(**_settings_kwargs(state_dir))
    found = KeyStore(settings.keys_path).list()
    if not found:
        click.echo("no API keys; create one with `convapps serve keys create NAME`")
        return
    click.echo(f"{'id':<14}{'name':<24}{'created':<27}status")
    for key in found:
        status = "active" if key.active else f"revoked {key.revoked}"
        click.echo(f"{key.id:<14}{key.name[:23]:<24}{key.created:<27}{status}")


@keys.command("revoke")
@click.argument("key")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=STATE_DIR_HELP)
def keys_revoke(key: str, state_dir: Path | None) -> None:
    """Revoke the key KEY (its id, an id prefix of 4+ characters, or its name); takes effect at once."""
    from convapps.web.keys import KeyStore
    from convapps.web.settings import WebSettings

    settings = WebSettings(**_settings_kwargs(state_dir))
    revoked = KeyStore(settings.keys_path).revoke(key)
    click.echo(f"revoked key {revoked.id} ({revoked.name})")
