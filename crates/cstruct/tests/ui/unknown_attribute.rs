use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
#[cstruct(packed)]
struct Bad {
    a: u8,
}

fn main() {}
