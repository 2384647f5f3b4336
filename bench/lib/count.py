"""Prints the one value of a query on either backend (a SQLite path or a
postgresql:// URI), through the test harness's ottest.Db."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
import ottest  # noqa: E402

os.environ.setdefault("OT_BIN", "")
print(ottest.Db(sys.argv[1]).q1(sys.argv[2]))
