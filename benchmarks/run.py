"""Run every benchmark and rewrite benchmarks/RESULTS.md (about 15 minutes on 2 cores)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("accuracy.py", "throughput.py", "report.py"):
    subprocess.run([sys.executable, str(HERE / script)], check=True)
