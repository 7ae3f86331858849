//! libFuzzer entry point; the body is `unistack_fuzz::stack_ingress`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::stack_ingress(data));
