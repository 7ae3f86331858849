//! Cross-crate and interop tests for unistack live in `tests/tests/`; this library is empty.
#![forbid(unsafe_code)]
