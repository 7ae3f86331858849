use unistack_cstruct::{CEnum, Cstruct};

#[derive(CEnum, Clone, Copy, Debug)]
#[repr(u8)]
enum Kind {
    A = 1,
    Unknown(u8),
}

#[derive(Cstruct)]
struct Bad {
    #[bits(12)]
    kind: Kind,
    #[bits(4)]
    rest: u8,
}

fn main() {}
