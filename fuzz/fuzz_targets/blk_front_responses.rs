//! libFuzzer entry point; the body is `unistack_blk::fuzzing::front_responses` (hostile
//! responses and indexes into blkfront).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_blk::fuzzing::front_responses(data));
