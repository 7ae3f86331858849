//! libFuzzer entry point; the body is `unistack_dns::fuzzing::resolver_responses`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_dns::fuzzing::resolver_responses(data));
