use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
#[allow(non_snake_case)]
struct Bad {
    Size: u8,
}

fn main() {}
