//! IPv4, ICMPv4, UDP and the Internet checksum on cstruct views. (Under construction.)
#![no_std]
#![forbid(unsafe_code)]
