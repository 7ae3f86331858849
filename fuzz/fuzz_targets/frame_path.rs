//! libFuzzer entry point; the body is `unistack_fuzz::frame_path`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::frame_path(data));
