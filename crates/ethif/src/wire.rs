//! The wire layouts of this crate, each declared once through `#[derive(Cstruct)]`.

use unistack_cstruct::{CEnum, Cstruct};

/// An EtherType (IEEE 802 numbers). Values below 0x0600 are 802.3 lengths, not types.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum EtherType {
    /// IPv4.
    #[cenum(display = "IPv4")]
    Ipv4 = 0x0800,
    /// ARP.
    #[cenum(display = "ARP")]
    Arp = 0x0806,
    /// An 802.1Q customer VLAN tag (C-tag).
    #[cenum(display = "802.1Q")]
    Vlan = 0x8100,
    /// An 802.1ad service VLAN tag (S-tag, "QinQ").
    #[cenum(display = "802.1ad")]
    QinQ = 0x88a8,
    /// The pre-standard QinQ TPID some switches still use for the outer tag.
    #[cenum(display = "QinQ-0x9100")]
    QinQLegacy = 0x9100,
    /// IPv6.
    #[cenum(display = "IPv6")]
    Ipv6 = 0x86dd,
    /// Any other value.
    Unknown(u16),
}

impl EtherType {
    /// Whether this value introduces a VLAN tag.
    pub const fn is_vlan(self) -> bool {
        matches!(
            self,
            EtherType::Vlan | EtherType::QinQ | EtherType::QinQLegacy
        )
    }

    /// Whether this is an 802.3 length (below 0x0600), not an EtherType.
    pub const fn is_length(self) -> bool {
        self.to_raw() < 0x0600
    }
}

/// The Ethernet II header: destination, source, EtherType.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = EthernetFrame)]
pub struct EthernetHeader {
    /// Destination MAC address.
    pub dst: [u8; 6],
    /// Source MAC address.
    pub src: [u8; 6],
    /// EtherType of the payload, or the TPID of a VLAN tag.
    pub ethertype: EtherType,
}

/// The four bytes that follow a VLAN TPID: the tag control information and the next
/// EtherType.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = VlanTagView)]
pub struct VlanHeader {
    /// Priority code point (802.1p).
    #[bits(3)]
    pub pcp: u8,
    /// Drop eligible indicator.
    #[bits(1)]
    pub dei: bool,
    /// VLAN identifier.
    #[bits(12)]
    pub vid: u16,
    /// EtherType of what follows (another tag, or the payload).
    pub ethertype: EtherType,
}

/// ARP hardware types.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ArpHardware {
    /// Ethernet (10 Mb and up).
    Ethernet = 1,
    /// Any other value.
    Unknown(u16),
}

/// ARP operations.
#[derive(CEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ArpOperation {
    /// A request: who has the target protocol address?
    Request = 1,
    /// A reply: the sender has the sender protocol address.
    Reply = 2,
    /// Any other value.
    Unknown(u16),
}

/// An ARP packet for Ethernet and IPv4 (RFC 826), the only combination this crate handles.
#[derive(Cstruct, Clone, Copy, Debug, PartialEq, Eq)]
#[cstruct(view = ArpPacket)]
pub struct ArpHeader {
    /// Hardware type.
    pub htype: ArpHardware,
    /// Protocol type.
    pub ptype: EtherType,
    /// Hardware address length.
    pub hlen: u8,
    /// Protocol address length.
    pub plen: u8,
    /// Operation.
    pub oper: ArpOperation,
    /// Sender hardware address.
    pub sha: [u8; 6],
    /// Sender protocol address.
    pub spa: [u8; 4],
    /// Target hardware address.
    pub tha: [u8; 6],
    /// Target protocol address.
    pub tpa: [u8; 4],
}
