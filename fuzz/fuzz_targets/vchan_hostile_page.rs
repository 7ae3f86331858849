//! libFuzzer entry point; the body is `unistack_vchan::fuzzing::hostile_page`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_vchan::fuzzing::hostile_page(data));
