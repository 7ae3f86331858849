use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    a: u16,
    #[bits(5)]
    b: u8,
}

fn main() {}
