use unistack_cstruct::CEnum;

#[derive(CEnum, Clone, Copy)]
#[repr(u16)]
enum Kind {
    A = 1,
    Unknown(u8),
}

fn main() {}
