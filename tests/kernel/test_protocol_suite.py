"""The standard Jupyter kernel conformance suite (jupyter_kernel_test) for the rust-orm kernel."""

import unittest

import jupyter_kernel_test

from conftest import FIRST_CELL_TIMEOUT, KERNEL_NAME


class RustOrmKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("something went wrong");'

    completion_samples = [
        {"text": "let a_long_variable_name = 1;\na_long_variable_na", "matches": {"a_long_variable_name"}},
        {"text": "String::with_capa", "matches": {"with_capacity(capacity)"}},
    ]

    complete_code_samples = ['println!("hi");', "fn f() -> i32 { 1 }", "let x = 1;", "1 + 1", ""]
    incomplete_code_samples = ["fn f() {", 'let s = "abc', "/* a comment", "let v = vec![1, 2,"]
    invalid_code_samples = ["let x = 1 );", "}", ":dep rand"]

    code_generate_error = 'let x: i32 = "not a number";'

    code_execute_result = [
        {"code": "6*7", "result": "42"},
        {"code": 'format!("{}-{}", "a", "b")', "result": '"a-b"'},
    ]

    code_display_data = [
        {"code": 'jupyter::display("text/html", "<b>bold</b>");', "mime": "text/html"},
        {"code": 'jupyter::display("text/plain", "plain");', "mime": "text/plain"},
    ]

    code_history_pattern = "6*7"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "String::new"

    code_clear_output = 'println!("gone"); jupyter::clear_output(false);'

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        # The suite gives each request 15 s; the kernel's first cell waits for the evaluator.
        cls.kc.execute_interactive("1", timeout=FIRST_CELL_TIMEOUT)


class SpacedHistoryPatternTests(RustOrmKernelTests):
    """The suite's history subtests with IPython's glob semantics: `6 *` matches `6 * 7` (the
    `*` of the pattern is a wildcard even where the input holds a `*`)."""

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": 'format!("{}-{}", "a", "b")', "result": '"a-b"'},
    ]
    code_history_pattern = "6 *"


# Only the history test runs again with the spaced pattern; unittest collects callables only.
for _name in dir(jupyter_kernel_test.KernelTests):
    if _name.startswith("test_") and _name != "test_history":
        setattr(SpacedHistoryPatternTests, _name, None)


if __name__ == "__main__":
    unittest.main()
