//! libFuzzer entry point; the body is `unistack_fuzz::appliance_tar`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::appliance_tar(data));
