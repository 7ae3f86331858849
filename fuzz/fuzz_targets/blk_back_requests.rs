//! libFuzzer entry point; the body is `unistack_blk::fuzzing::back_requests` (hostile front
//! ring bytes, indirect pages and indexes into blkback's validation).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| unistack_blk::fuzzing::back_requests(data));
