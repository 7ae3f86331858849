//! Xen vchan and Xen shared rings over emulated grant pages and event channels.
//! (Under construction.)
#![no_std]
