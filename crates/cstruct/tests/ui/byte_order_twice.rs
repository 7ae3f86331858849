use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad {
    #[cstruct(little, big)]
    a: u16,
}

fn main() {}
