use unistack_cstruct::Cstruct;

#[derive(Cstruct, Clone, Copy, Debug)]
struct Inner {
    x: u16,
}

#[derive(Cstruct)]
struct Bad {
    #[cstruct(little)]
    inner: Inner,
}

fn main() {}
