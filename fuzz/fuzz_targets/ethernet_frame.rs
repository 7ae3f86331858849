//! libFuzzer entry point; the body is `unistack_fuzz::ethernet_frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::ethernet_frame(data));
