//! libFuzzer entry point; the body is `unistack_fuzz::dns_tcp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::dns_tcp(data));
