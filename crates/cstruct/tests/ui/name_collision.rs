use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    foo: u8,
    set_foo: u8,
}

fn main() {}
