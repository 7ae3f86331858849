use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(8)]
    a: [u8; 4],
}

fn main() {}
