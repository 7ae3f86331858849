//! libFuzzer entry point; the body is `unistack_fuzz::ipv4_packet`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::ipv4_packet(data));
