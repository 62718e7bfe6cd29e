"""What faults.py and live.py share around the server processes speed.py starts (`Bench`): the
run itself, with the servers' logs kept and shown when it fails, and the app's memory now.

Imported as `processes`, as they import `speed`: each script puts this folder on sys.path.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from speed import _terminate

Report = TypeVar("Report")


def run_with_servers(
    name: str,
    bench: Callable[[Path], Coroutine[Any, Any, Report]],
    failures: tuple[type[Exception], ...],
) -> tuple[Report, Path] | int:
    """Run `bench`, which starts the servers with their logs in the folder it is given and
    stops them however it ends; SIGTERM ends it as Ctrl-C does, so a killed bench leaves no
    server behind. Its report and the logs' folder, for the caller to remove once it knows the
    run went well; or an exit status: 1 when it fails with one of `failures`, after each log's
    tail (a server's log usually says why), 130 when interrupted. Either way the logs stay,
    for reading."""
    signal.signal(signal.SIGTERM, _terminate)
    logdir = Path(tempfile.mkdtemp(prefix=f"member-app-{name}-"))
    try:
        return asyncio.run(bench(logdir)), logdir
    except failures as exc:
        # A TimeoutError has no message; its repr at least names it.
        print(f"{name} bench failed: {str(exc) or repr(exc)}", file=sys.stderr)
        for log in sorted(logdir.glob("*.log")):
            print(f"  {log}:\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; servers stopped; logs in {logdir}", file=sys.stderr)
        return 130


def rss_mb(pid: int) -> float:
    """A process's resident memory now (VmRSS), in MB; NaN if /proc does not say."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
