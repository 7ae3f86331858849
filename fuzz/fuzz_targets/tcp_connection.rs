//! libFuzzer entry point; the body is `unistack_fuzz::tcp_connection`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::tcp_connection(data));
