use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(4)]
    a: u8,
    #[bits(12)]
    #[cstruct(little)]
    b: u16,
}

fn main() {}
