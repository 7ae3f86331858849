use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[bits(1)]
    a: u8,
    #[bits(4294967295)]
    b: u64,
}

fn main() {}
