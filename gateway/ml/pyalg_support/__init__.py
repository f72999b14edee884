"""Files copied next to PythonAlg user scripts (``mlsql.py``, ``mlsql_model.py``); see README.md here.

They are standalone modules imported by the script as ``import mlsql``, not through this package.
"""

from pathlib import Path

SUPPORT_DIR = Path(__file__).resolve().parent
SUPPORT_FILES = ("mlsql.py", "mlsql_model.py")
