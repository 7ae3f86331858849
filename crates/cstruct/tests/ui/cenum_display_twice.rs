use unistack_cstruct::CEnum;

#[derive(CEnum, Clone, Copy)]
#[repr(u8)]
enum Kind {
    #[cenum(display = "a", display = "b")]
    A = 1,
    Unknown(u8),
}

fn main() {}
