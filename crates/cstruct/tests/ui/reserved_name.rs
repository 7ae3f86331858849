use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    kind: u8,
    payload: u16,
}

fn main() {}
