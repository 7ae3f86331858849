//! A sans-IO TCP for unistack. (Under construction: the wire format — header view, options,
//! sequence numbers — is in place; the segment `Repr` with checksums and the connection state
//! machine follow.)
//!
//! # Panics
//! None on any input: views are built with `new_checked`, options are parsed with every
//! length checked.
#![no_std]
#![forbid(unsafe_code)]

mod error;
pub mod options;
mod repr;
mod seq;
pub mod wire;

pub use error::Error;
pub use options::{OptionsRepr, SackBlocks, SackRef, TcpOption, parse_options};
pub use repr::{Control, TcpRepr};
pub use seq::SeqNumber;
pub use wire::{TcpHeader, TcpSegment};
