"""How busy the machine was during the load test, and how much of it was the test itself.

The machine may be shared: figures measured while other work takes the cores
say little. `sample` writes the CPU time of the whole machine and of the
test's processes (the descendants of the given process ids: the script, which
starts gunicorn, the mail sink and locust, and PostgreSQL's postmaster when the
test started the cluster); `report` compares two samples.

    python -m bench.cpu sample OUTPUT PID...
    python -m bench.cpu report START END
"""

import json
import os
import sys
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _machine_busy_ticks() -> int:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return sum(fields[:8]) - idle - iowait


def _processes() -> dict[int, tuple[int, int]]:
    """Parent and CPU ticks (user + system) of every process."""
    processes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        processes[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return processes


def sample(output: Path, roots: list[int]) -> None:
    processes = _processes()
    ours = set(roots) & set(processes)
    grew = True
    while grew:
        more = {pid for pid, (parent, _ticks) in processes.items() if parent in ours} - ours
        ours |= more
        grew = bool(more)
    output.write_text(
        json.dumps(
            {
                "at": time.monotonic(),
                "machine": _machine_busy_ticks(),
                "ours": {pid: processes[pid][1] for pid in ours},
            }
        )
    )


def report(start_path: Path, end_path: Path) -> None:
    start, end = (json.loads(path.read_text()) for path in (start_path, end_path))
    seconds = end["at"] - start["at"]
    machine = (end["machine"] - start["machine"]) / TICKS / seconds
    ours = sum(ticks - start["ours"].get(pid, 0) for pid, ticks in end["ours"].items())
    ours = ours / TICKS / seconds
    print(
        f"CPU during the run ({os.cpu_count()} cores): {machine:.2f} cores busy, of which the "
        f"load test (server, database, locust) {ours:.2f} and other work {machine - ours:.2f}"
    )


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "sample":
        sample(Path(arguments[0]), [int(pid) for pid in arguments[1:]])
    elif command == "report":
        report(Path(arguments[0]), Path(arguments[1]))
    else:
        sys.exit(__doc__)
