use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[cstruct(little)]
    a: [u8; 4],
}

fn main() {}
