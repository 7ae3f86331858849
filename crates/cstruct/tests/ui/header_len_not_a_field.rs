use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
#[cstruct(header_len = hlen * 4)]
struct Bad {
    #[bits(4)]
    ihl: u8,
    #[bits(4)]
    rest: u8,
}

fn main() {}
