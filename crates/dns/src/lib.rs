//! Zero-copy DNS for unistack. (Under construction.)
#![no_std]
#![forbid(unsafe_code)]
