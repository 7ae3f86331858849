use unistack_cstruct::CEnum;

#[derive(CEnum, Clone, Copy)]
#[repr(u8)]
enum Kind {
    A = 1,
    #[cenum(display = "other")]
    Unknown(u8),
}

fn main() {}
