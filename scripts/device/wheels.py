"""Checks the carried wheel folder (.whl/) before it travels to the GPU machine.

`python scripts/device/wheels.py DEST --python-version 3.12 [--max-mib 60]` verifies that

- every package pinned in scripts/device/requirements.txt has exactly one wheel in DEST, of the
  pinned version (two versions of one package make the offline install fail);
- every runtime requirement of every wheel (markers evaluated for the target Python on x86-64
  Linux, extras ignored) is either carried or in the image's package list
  (scripts/device/image_packages.txt): check.sh installs with --no-deps, so nothing else would
  bring it in;
- the travelling tree (`git ls-files -co --exclude-standard`) plus DEST stays under the budget.

It exits 1 with the reasons when any check fails. No third-party import: it runs under any
Python with pip (whose vendored `packaging` it falls back to).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import zipfile
from pathlib import Path

try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
except ImportError:  # a bare interpreter: pip vendors the same library
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(path: Path) -> dict[str, str]:
    """{normalized name: version} of the `name==version` lines (comments skipped)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise SystemExit(f"{path}: '{line}' is not pinned as name==version")
        pins[normalize(name)] = version.strip()
    return pins


def image_packages(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        names.update(normalize(n) for n in line.split())
    return names


def wheel_metadata(wheel: Path) -> tuple[str, str, list[str]]:
    """(normalized name, version, Requires-Dist lines) read from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(meta).decode("utf-8")
    header = text.split("\n\n", 1)[0]
    fields = [line.split(":", 1) for line in header.splitlines() if ":" in line]
    name = next(v.strip() for k, v in fields if k == "Name")
    version = next(v.strip() for k, v in fields if k == "Version")
    requires = [v.strip() for k, v in fields if k == "Requires-Dist"]
    return normalize(name), version, requires


def tree_bytes(repo: Path) -> int:
    """Bytes of the files that travel: tracked plus untracked-not-ignored."""
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=repo, check=True, capture_output=True,
    ).stdout  # fmt: skip
    total = 0
    for rel in out.decode().split("\0"):
        path = repo / rel
        if rel and path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def check(dest: Path, python_version: str, max_mib: float) -> list[str]:
    problems: list[str] = []
    pins = pinned(HERE / "requirements.txt")
    image = image_packages(HERE / "image_packages.txt")
    wheels = sorted(dest.glob("*.whl"))
    found: dict[str, list[tuple[str, Path]]] = {}
    requires: dict[str, list[str]] = {}
    for wheel in wheels:
        name, version, reqs = wheel_metadata(wheel)
        found.setdefault(name, []).append((version, wheel))
        requires[name] = reqs
    for name, version in pins.items():
        have = found.get(name, [])
        if not have:
            problems.append(f"{name}=={version}: no wheel in {dest}")
        elif len(have) > 1:
            problems.append(f"{name}: {len(have)} wheels ({', '.join(p.name for _, p in have)})")
        elif have[0][0] != version:
            problems.append(f"{name}: wheel has {have[0][0]}, requirements.txt pins {version}")
    for name in sorted(set(found) - set(pins)):
        problems.append(f"{name}: a wheel in {dest} that requirements.txt does not pin")
    env = default_environment()
    env.update(python_version=python_version, python_full_version=f"{python_version}.0",
               sys_platform="linux", platform_system="Linux", platform_machine="x86_64",
               os_name="posix", implementation_name="cpython",
               platform_python_implementation="CPython", extra="")  # fmt: skip
    carried = set(found)
    for name, reqs in sorted(requires.items()):
        for line in reqs:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            dep = normalize(req.name)
            if dep not in carried and dep not in image:
                problems.append(f"{name} needs {req}: neither carried nor in the image")
    wheel_bytes = sum(w.stat().st_size for w in wheels)
    tree = tree_bytes(REPO)
    total = tree + wheel_bytes
    print(f"{'wheel':<60} {'MiB':>7}")
    for wheel in wheels:
        print(f"{wheel.name:<60} {wheel.stat().st_size / 2**20:7.2f}")
    print(f"wheels {wheel_bytes / 2**20:.2f} MiB + working tree {tree / 2**20:.2f} MiB = "
          f"{total / 2**20:.2f} MiB travelling (budget {max_mib:g} MiB, hard limit 64)")  # fmt: skip
    if total > max_mib * 2**20:
        problems.append(f"travelling tree {total / 2**20:.2f} MiB is over {max_mib:g} MiB")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--python-version", default="3.12")
    parser.add_argument("--max-mib", type=float, default=60.0)
    args = parser.parse_args()
    problems = check(args.dest, args.python_version, args.max_mib)
    for p in problems:
        print(f"wheels.py: {p}", file=sys.stderr)
    if not problems:
        print(f"{args.dest}: complete for Python {args.python_version}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
