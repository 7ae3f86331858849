use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad(u8, u16);

fn main() {}
