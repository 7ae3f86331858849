use unistack_cstruct::Cstruct;

#[derive(Cstruct)]
#[cstruct(header_len = addr)]
struct Bad {
    addr: [u8; 4],
}

fn main() {}
