use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    a: u8,
    b: i32,
}

fn main() {}
