use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
struct Bad<T> {
    a: u8,
    t: core::marker::PhantomData<T>,
}

fn main() {}
