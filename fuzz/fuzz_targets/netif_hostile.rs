//! libFuzzer entry point; the body is `unistack_fuzz::netif_hostile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::netif_hostile(data));
