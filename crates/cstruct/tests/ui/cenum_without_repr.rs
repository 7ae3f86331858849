use unistack_cstruct::CEnum;

#[derive(CEnum, Clone, Copy)]
enum Kind {
    A,
    Unknown(u8),
}

fn main() {}
