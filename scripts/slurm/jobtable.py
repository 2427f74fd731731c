"""Print a jobcomp/filetxt file (the test cluster's job table) as an aligned table.

python scripts/slurm/jobtable.py STATE_DIR/jobcomp.txt
"""

from __future__ import annotations

import re
import sys
from datetime import datetime

COLUMNS = ("JobId", "Name", "JobState", "ExitCode", "NodeCnt", "ProcCnt", "StartTime", "EndTime")


def main(path: str) -> int:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = dict(re.findall(r"(\w+)=(\S*)", line))
            if not row:
                continue
            try:
                start = datetime.fromisoformat(row["StartTime"])
                end = datetime.fromisoformat(row["EndTime"])
                row["Elapsed"] = str(int((end - start).total_seconds()))
            except (KeyError, ValueError):
                row["Elapsed"] = "?"
            rows.append(row)
    cols = (*COLUMNS, "Elapsed")
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) if rows else len(c) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(r.get(c, "").ljust(widths[c]) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
