use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    flag: bool,
}

fn main() {}
