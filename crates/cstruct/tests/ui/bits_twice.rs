use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(4)]
    #[bits(4)]
    a: u8,
    #[bits(4)]
    b: u8,
}

fn main() {}
