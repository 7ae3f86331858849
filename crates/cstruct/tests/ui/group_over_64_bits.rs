use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(4)]
    a: u8,
    #[bits(64)]
    b: u64,
    #[bits(4)]
    c: u8,
}

fn main() {}
