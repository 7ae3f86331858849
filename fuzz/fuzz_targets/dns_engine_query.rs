//! libFuzzer entry point; the body is `unistack_dns::fuzzing::engine_query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_dns::fuzzing::engine_query(data));
