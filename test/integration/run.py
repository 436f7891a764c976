#!/usr/bin/env python3
"""Runs the integration tests (test/integration/test_*.py).

    python3 test/integration/run.py [-v] [-k PATTERN] [module ...]

The last line of the output is exactly "N passed, N failed" (plus
", N skipped" when tests were skipped); the exit status is 1 when anything
failed.  A test counts as failed when it fails, errors, or never ran because
its module's or class's set-up failed; an error in a tear-down (e.g. a
sanitizer report found in the server logs after the stack stopped) counts as
one more failure.

Environment: OPENBOOK_BIN (default build/asan/openbook), OPENBOOK_KEEP_TMP=1
keeps the stack directories, OPENBOOK_IT_DEADLINE (seconds, default 1200) ends
a hung run.
"""

import argparse
import faulthandler
import os
import sys
import threading
import time
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.passed = 0
        self.setup_teardown_errors = []
        self.started_at = {}

    def startTest(self, test):
        self.started_at[test.id()] = time.monotonic()
        super().startTest(test)

    def addSuccess(self, test):
        self.passed += 1
        super().addSuccess(test)

    def addError(self, test, err):
        if isinstance(test, unittest.suite._ErrorHolder):
            self.setup_teardown_errors.append(test.description)
        super().addError(test, err)

    def stopTest(self, test):
        super().stopTest(test)
        t0 = self.started_at.get(test.id())
        if t0 is not None and self.showAll:
            self.stream.write("    (%.1fs)\n" % (time.monotonic() - t0))
            self.stream.flush()


def _watchdog(seconds, result_box):
    def fire():
        sys.stdout.flush()
        sys.stdout.write("\nrun.py: deadline of %ds passed; stacks:\n" % seconds)
        sys.stdout.flush()
        faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
        r = result_box.get("result")
        passed = r.passed if r else 0
        total = result_box.get("total", 0)
        sys.stdout.write("%d passed, %d failed\n" % (passed, max(1, total - passed)))
        sys.stdout.flush()
        os._exit(1)  # children die with us (parent-death signal)
    t = threading.Timer(seconds, fire)
    t.daemon = True
    t.start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per test")
    ap.add_argument("-k", dest="patterns", action="append", help="only tests matching")
    ap.add_argument("-x", "--failfast", action="store_true")
    ap.add_argument("modules", nargs="*", help="test modules (default: all test_*.py)")
    args = ap.parse_args()

    warnings.simplefilter("ignore", ResourceWarning)
    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ["*%s*" % p if "*" not in p else p for p in args.patterns]
    if args.modules:
        names = [os.path.splitext(os.path.basename(m))[0] for m in args.modules]
        suite = loader.loadTestsFromNames(names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    total = suite.countTestCases()

    box = {"total": total}
    _watchdog(int(os.environ.get("OPENBOOK_IT_DEADLINE", "1200")), box)

    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2 if args.verbose else 1,
                                     resultclass=CountingResult, failfast=args.failfast)
    orig = runner._makeResult

    def make():
        r = orig()
        box["result"] = r
        return r
    runner._makeResult = make
    t0 = time.monotonic()
    result = runner.run(suite)
    sys.stderr.flush()
    sys.stdout.flush()

    skipped = len(result.skipped)
    failed = (total - result.passed - skipped) + \
        sum(1 for d in result.setup_teardown_errors if "tearDown" in d)
    line = "%d passed, %d failed" % (result.passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    sys.stdout.write("(%.0fs)\n%s\n" % (time.monotonic() - t0, line))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
