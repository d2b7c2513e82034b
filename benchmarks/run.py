"""Run the CPU benchmarks and rewrite benchmarks/RESULTS.md (about 30 minutes on 2 cores).

The GPU benchmark needs a lent GPU machine: see benchmarks/accurate_gpu.py (its last results stay in the report).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("accuracy.py", "span_boundaries.py", "throughput.py", "memory.py", "accurate_speed.py", "report.py"):
    subprocess.run([sys.executable, str(HERE / script)], check=True)
