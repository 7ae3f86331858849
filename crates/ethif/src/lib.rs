//! Ethernet II frames, 802.1Q/802.1ad VLAN tags and ARP for Ethernet/IPv4, on cstruct views,
//! with a sans-IO ARP cache. (Under construction.)
#![no_std]
#![forbid(unsafe_code)]
