use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
#[cstruct(crate = ::unistack_cstruct, crate = ::unistack_cstruct)]
struct Bad {
    a: u8,
}

fn main() {}
