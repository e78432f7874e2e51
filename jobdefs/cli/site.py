"""The command of the explorer: serve the site while the workbook is edited."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from jobdefs.cli.app import cli, workbook_or_argument


@cli.command()
@workbook_or_argument
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder.  [default: output: in jobdefs.yaml, else build]",
)
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to serve on. Anything but loopback lets other computers read the "
    "site: jobdefs warns.",
)
def serve(workbook: Path, output: Path | None, port: int, host: str) -> None:
    """Build, serve the site on this computer, and rebuild what changed whenever a file
    of the workbook changes; open pages reload themselves. Stop with Ctrl-C.

    \b
    Example:
        jobdefs serve              # then open http://127.0.0.1:8000/
        jobdefs serve --port 8080
    """
    from jobdefs.build.serve import SiteServer, is_loopback

    if not is_loopback(host):
        click.echo(
            f"Warning: serving on {host}: other computers on the network can read the site",
            err=True,
        )
    server = SiteServer(
        workbook,
        output_dir=output,
        host=host,
        port=port,
        report=lambda line: click.echo(line, err=True),
    )
    # A service manager stops it with SIGTERM: stop as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    server.start()
    click.echo(f"Serving {server.site} at {server.address} (Ctrl-C to stop)", err=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping", err=True)
    finally:
        server.stop()
