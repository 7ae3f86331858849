use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(9)]
    a: u8,
    #[bits(7)]
    b: u8,
}

fn main() {}
