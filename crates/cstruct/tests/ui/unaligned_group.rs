use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(4)]
    a: u8,
    #[bits(3)]
    b: u8,
    c: u16,
}

fn main() {}
