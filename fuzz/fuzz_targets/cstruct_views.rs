//! libFuzzer entry point; the body is `unistack_fuzz::cstruct_views`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_fuzz::cstruct_views(data));
