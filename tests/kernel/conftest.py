"""Shared setup for the kernel tests: the kernel under test and how long its first start may take."""

import os

#: The kernelspec name written by `orm-kernel install`.
KERNEL_NAME = os.environ.get("ORM_KERNEL_NAME", "rust-orm")

#: The first cell of a kernel waits for the evaluator: seconds on a warm cache, minutes when
#: `orm` is built for the first time (run `orm-kernel prepare` first to keep this short).
FIRST_CELL_TIMEOUT = float(os.environ.get("ORM_KERNEL_FIRST_CELL_TIMEOUT", "600"))
