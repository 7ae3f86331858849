//! A sans-IO TCP for unistack. (Under construction: the wire format — header view, options,
//! sequence numbers — is in place; the segment `Repr` with checksums and the connection state
//! machine follow.)
//!
//! # Panics
//! None on any input: views are built with `new_checked`, options are parsed with every
//! length checked.
#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

mod assembler;
mod buffer;
mod cc;
mod config;
mod error;
mod isn;
mod listener;
pub mod options;
mod repr;
mod rtt;
mod scoreboard;
mod seq;
#[cfg(feature = "sim")]
pub mod sim;
mod socket;
pub mod wire;

pub use assembler::Assembler;
pub use buffer::RingBuffer;
pub use cc::{Algorithm, Congestion};
pub use config::{Config, KeepAlive, window_shift_for};
pub use error::Error;
pub use isn::{COOKIE_MSS, CookieData, FourTuple, IsnKey};
pub use listener::{CookieMode, HalfOpen, ListenOutcome, Listener, ListenerStats};
pub use options::{OptionsRepr, SackBlocks, SackRef, TcpOption, parse_options};
pub use repr::{Control, TcpRepr};
pub use rtt::RttEstimator;
pub use scoreboard::Scoreboard;
pub use seq::SeqNumber;
pub use socket::{
    ConnectError, ConnectionError, Handshake, Outcome, RecvError, SendError, Socket, State, Stats,
    Transmit, reset_for,
};
pub use wire::{TcpHeader, TcpSegment};
