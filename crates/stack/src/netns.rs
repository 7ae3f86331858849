//! Throwaway Linux network namespaces (feature `std`, Linux only), for tests and benches that
//! put a TAP device or a veth pair somewhere with no route out.
//!
//! A [`Netns`] is created with `ip netns add` under a name unique to the process and a tag,
//! runs commands and shell scripts inside with `ip netns exec`, and is deleted when dropped.
//! Everything goes through the `ip`, `bash` and (for [`Netns::tcp_loss`]) `nft` commands, so
//! it needs root (`CAP_NET_ADMIN` and `CAP_SYS_ADMIN`) and those tools; no system call is made
//! here directly.
//!
//! ```no_run
//! use unistack_stack::netns::Netns;
//!
//! # fn main() -> std::io::Result<()> {
//! let ns = Netns::new("demo")?; // `us-demo-<pid>`, with `lo` up
//! let out = ns.sh("ip -br link")?;
//! assert!(out.contains("lo"));
//! # Ok(())
//! # }
//! ```

use std::ffi::OsStr;
use std::format;
use std::io;
use std::process::{Command, Output, Stdio};
use std::string::String;

/// A network namespace that lives as long as this value: created by [`Netns::new`], deleted
/// (`ip netns del`) on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates the namespace `us-{tag}-{pid}` (`pid` this process's id) and brings its `lo`
    /// up. A namespace left under that name by an earlier process with the same id is deleted
    /// first.
    ///
    /// # Errors
    /// If `ip` cannot be run, or `ip netns add` or bringing `lo` up fails (the error carries
    /// the command's standard error); the namespace is deleted again in the latter case.
    pub fn new(tag: &str) -> io::Result<Netns> {
        let name = format!("us-{tag}-{}", std::process::id());
        // Stale: the namespace usually does not exist, so its failure says nothing.
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        run(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns { name };
        ns.sh("ip link set lo up")?;
        Ok(ns)
    }

    /// The namespace's name, as `ip netns` and `ip -n` know it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command running `program` inside the namespace (`ip netns exec NAME program`), to
    /// add arguments, environment and pipes to and then run or spawn (a child left running in
    /// the background is the caller's to kill before the namespace is dropped).
    pub fn cmd(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `script` with `bash -c` inside the namespace and returns its standard output.
    ///
    /// # Errors
    /// If it cannot be started, or exits unsuccessfully: then the error names the script and
    /// carries its standard error.
    pub fn sh(&self, script: &str) -> io::Result<String> {
        let out = run(self.cmd("bash").args(["-c", script]))
            .map_err(|e| io::Error::new(e.kind(), format!("`{script}` failed: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Gives the interface `dev` inside the namespace the address `cidr` (such as
    /// `192.0.2.1/24`) and brings it up.
    ///
    /// # Errors
    /// As [`Netns::sh`]: no such device, or the address is malformed or already there.
    pub fn addr_up(&self, dev: &str, cidr: &str) -> io::Result<()> {
        self.sh(&format!(
            "ip addr add {cidr} dev {dev} && ip link set {dev} up"
        ))
        .map(drop)
    }

    /// Creates a veth pair joining two namespaces: `dev` in this one and `peer_dev` in
    /// `peer`, both down and without addresses (see [`Netns::addr_up`]). The pair is created
    /// straight in the namespaces, so its names cannot clash with the host's interfaces, and it
    /// goes when either namespace does.
    ///
    /// # Errors
    /// If `ip link add` fails (the error carries its standard error), for instance when a
    /// name is taken in its namespace.
    pub fn veth(&self, dev: &str, peer: &Netns, peer_dev: &str) -> io::Result<()> {
        run(Command::new("ip").args([
            "link", "add", dev, "netns", &self.name, "type", "veth", "peer", "name", peer_dev,
            "netns", &peer.name,
        ]))
        .map(drop)
    }

    /// Drops `percent`% of TCP packets at random, both incoming and outgoing, on this
    /// namespace's side: the nftables table `inet loss` with `numgen random mod 100 lt
    /// {percent} drop` rules on the input and output hooks (Linux's own answer to a lossy
    /// link where `tc netem` is missing). The table goes with the namespace.
    ///
    /// # Errors
    /// As [`Netns::sh`]: `nft` is missing, or the table exists already.
    pub fn tcp_loss(&self, percent: u32) -> io::Result<()> {
        self.sh(&format!(
            "nft add table inet loss && \
             nft add chain inet loss in '{{ type filter hook input priority 0; }}' && \
             nft add chain inet loss out '{{ type filter hook output priority 0; }}' && \
             nft add rule inet loss in meta l4proto tcp numgen random mod 100 lt {percent} drop && \
             nft add rule inet loss out meta l4proto tcp numgen random mod 100 lt {percent} drop"
        ))
        .map(drop)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `c` to its end with its output captured; an unsuccessful exit is an error carrying its
/// standard error.
fn run(c: &mut Command) -> io::Result<Output> {
    let out = c.output()?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(io::Error::other(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        )))
    }
}
