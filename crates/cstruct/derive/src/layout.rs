//! `#[derive(Cstruct)]`: parse a layout description, check it, emit the view.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, Ident, Path, Type};

use crate::{default_crate_path, doc_attrs, parse_crate_path};

/// Byte order of a field or bitfield group.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Endian {
    Big,
    Little,
}

impl Endian {
    fn tokens(self, krate: &Path) -> TokenStream {
        match self {
            Endian::Big => quote!(#krate::Endian::Big),
            Endian::Little => quote!(#krate::Endian::Little),
        }
    }
    fn get_fn(self) -> Ident {
        match self {
            Endian::Big => format_ident!("get_be"),
            Endian::Little => format_ident!("get_le"),
        }
    }
    fn set_fn(self) -> Ident {
        match self {
            Endian::Big => format_ident!("set_be"),
            Endian::Little => format_ident!("set_le"),
        }
    }
    fn set_bits_fn(self) -> Ident {
        match self {
            Endian::Big => format_ident!("set_bits_be"),
            Endian::Little => format_ident!("set_bits_le"),
        }
    }
}

/// `field` or `field * N`: how a length attribute turns a field into a byte count.
struct LenExpr {
    field: Ident,
    scale: u64,
}

impl syn::parse::Parse for LenExpr {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let expr: Expr = input.parse()?;
        match &expr {
            Expr::Path(p) if p.path.get_ident().is_some() => Ok(LenExpr {
                field: p
                    .path
                    .get_ident()
                    .cloned()
                    .unwrap_or_else(|| format_ident!("_")),
                scale: 1,
            }),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Mul(_)) => {
                let field = match &*b.left {
                    Expr::Path(p) => p.path.get_ident().cloned(),
                    _ => None,
                };
                let scale = match &*b.right {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Int(i),
                        ..
                    }) => Some(i.base10_parse::<u64>()?),
                    _ => None,
                };
                match (field, scale) {
                    (Some(field), Some(scale)) if scale > 0 => Ok(LenExpr { field, scale }),
                    _ => Err(syn::Error::new(
                        expr.span(),
                        "expected `field` or `field * N` with N a positive integer literal",
                    )),
                }
            }
            _ => Err(syn::Error::new(
                expr.span(),
                "expected `field` or `field * N` with N a positive integer literal",
            )),
        }
    }
}

struct StructOpts {
    endian: Endian,
    view: Option<Ident>,
    header_len: Option<LenExpr>,
    total_len: Option<LenExpr>,
    krate: Path,
}

/// What a field is on the wire.
enum Kind {
    /// `u8`, `u16`, `u32`, `u64`: width in bytes.
    Uint(usize),
    /// `bool`: only as `#[bits(1)]`.
    Bool,
    /// `[u8; N]`.
    Array(Expr),
    /// A nested `Cstruct` or a `CEnum`: anything implementing `unistack_cstruct::Field`.
    Path,
}

struct FieldDef {
    ident: Ident,
    ty: Type,
    kind: Kind,
    bits: Option<(u32, Span)>,
    endian: Endian,
    endian_attr: Option<Span>,
    docs: Vec<syn::Attribute>,
}

/// A bitfield inside a group: index into the field list, shift from the group's LSB, width.
struct Member {
    field: usize,
    shift: u32,
    bits: u32,
}

enum Item {
    Plain {
        field: usize,
        offset: TokenStream,
        size: TokenStream,
    },
    Group {
        offset: TokenStream,
        bytes: usize,
        endian: Endian,
        members: Vec<Member>,
    },
}

/// Constants the derive generates on the layout type besides one per field.
const RESERVED_CONSTS: &[&str] = &["SIZE", "FIELDS"];

/// Methods the derive generates on the view or the layout type besides the field accessors.
const RESERVED: &[&str] = &[
    "new_unchecked",
    "new_checked",
    "check_len",
    "into_inner",
    "as_bytes",
    "as_bytes_mut",
    "as_view",
    "header_len",
    "header",
    "header_mut",
    "options",
    "options_mut",
    "payload",
    "payload_mut",
    "packet_len",
    "into_payload",
    "into_header",
    "decode",
    "encode",
    "hexdump",
    "to_bytes",
    "from_bytes",
    "read_from",
    "read_from_at",
];

fn parse_struct_opts(input: &DeriveInput) -> syn::Result<StructOpts> {
    let mut opts = StructOpts {
        endian: Endian::Big,
        view: None,
        header_len: None,
        total_len: None,
        krate: default_crate_path(),
    };
    let mut endian_seen: Option<Span> = None;
    let mut crate_seen = false;
    for attr in &input.attrs {
        if attr.path().is_ident("bits") {
            return Err(syn::Error::new(
                attr.span(),
                "#[bits(N)] belongs on a field, not on the struct",
            ));
        }
        if !attr.path().is_ident("cstruct") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            let span = meta.path.span();
            if meta.path.is_ident("little") || meta.path.is_ident("big") {
                if endian_seen.is_some() {
                    return Err(meta.error("byte order given twice: use one of `big` or `little`"));
                }
                endian_seen = Some(span);
                opts.endian = if meta.path.is_ident("little") {
                    Endian::Little
                } else {
                    Endian::Big
                };
                Ok(())
            } else if meta.path.is_ident("view") {
                if opts.view.is_some() {
                    return Err(meta.error("`view` given twice"));
                }
                opts.view = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("header_len") {
                if opts.header_len.is_some() {
                    return Err(meta.error("`header_len` given twice"));
                }
                opts.header_len = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("total_len") {
                if opts.total_len.is_some() {
                    return Err(meta.error("`total_len` given twice"));
                }
                opts.total_len = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("crate") {
                if crate_seen {
                    return Err(meta.error("`crate` given twice"));
                }
                crate_seen = true;
                opts.krate = parse_crate_path(&meta)?;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown cstruct attribute: expected `big`, `little`, `view = Name`, \
                     `header_len = field [* N]`, `total_len = field [* N]` or `crate = path`",
                ))
            }
        })?;
    }
    Ok(opts)
}

fn classify(ty: &Type) -> syn::Result<Kind> {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            if let Some(id) = p.path.get_ident() {
                match id.to_string().as_str() {
                    "u8" => return Ok(Kind::Uint(1)),
                    "u16" => return Ok(Kind::Uint(2)),
                    "u32" => return Ok(Kind::Uint(4)),
                    "u64" => return Ok(Kind::Uint(8)),
                    "bool" => return Ok(Kind::Bool),
                    "i8" | "i16" | "i32" | "i64" | "i128" | "u128" | "usize" | "isize" | "f32"
                    | "f64" | "char" | "str" | "String" => {
                        return Err(syn::Error::new(
                            ty.span(),
                            format!(
                                "unsupported field type `{id}`: a layout field is u8, u16, u32, \
                                 u64, [u8; N], a bitfield (#[bits(N)]), or a type deriving \
                                 Cstruct or CEnum"
                            ),
                        ));
                    }
                    _ => {}
                }
            }
            if p.path.segments.iter().any(|s| !s.arguments.is_empty()) {
                return Err(syn::Error::new(
                    ty.span(),
                    "unsupported field type: generic types cannot describe a fixed wire layout",
                ));
            }
            Ok(Kind::Path)
        }
        Type::Array(a) => match &*a.elem {
            Type::Path(p) if p.path.is_ident("u8") => Ok(Kind::Array(a.len.clone())),
            other => Err(syn::Error::new(
                other.span(),
                "unsupported array element: only byte arrays `[u8; N]` are layout fields",
            )),
        },
        Type::Group(g) => classify(&g.elem),
        Type::Paren(p) => classify(&p.elem),
        _ => Err(syn::Error::new(
            ty.span(),
            "unsupported field type: a layout field is u8, u16, u32, u64, [u8; N], a bitfield \
             (#[bits(N)]), or a type deriving Cstruct or CEnum",
        )),
    }
}

fn parse_field(f: &syn::Field, default_endian: Endian) -> syn::Result<FieldDef> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new(f.span(), "Cstruct fields must be named"))?;
    let kind = classify(&f.ty)?;
    let mut bits: Option<(u32, Span)> = None;
    let mut endian = default_endian;
    let mut endian_attr: Option<Span> = None;
    for attr in &f.attrs {
        if attr.path().is_ident("bits") {
            if bits.is_some() {
                return Err(syn::Error::new(
                    attr.path().span(),
                    "#[bits] given twice on one field",
                ));
            }
            let lit: syn::LitInt = attr.parse_args().map_err(|_| {
                syn::Error::new(attr.span(), "expected #[bits(N)] with N an integer literal")
            })?;
            let n: u32 = lit.base10_parse()?;
            if n > 64 {
                return Err(syn::Error::new(
                    lit.span(),
                    "a bitfield is at most 64 bits wide",
                ));
            }
            if n == 0 {
                return Err(syn::Error::new(
                    lit.span(),
                    "a bitfield needs at least one bit",
                ));
            }
            bits = Some((n, lit.span()));
        } else if attr.path().is_ident("cstruct") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("little") || meta.path.is_ident("big") {
                    if endian_attr.is_some() {
                        return Err(
                            meta.error("byte order given twice: use one of `big` or `little`")
                        );
                    }
                    endian_attr = Some(meta.path.span());
                    endian = if meta.path.is_ident("little") {
                        Endian::Little
                    } else {
                        Endian::Big
                    };
                    Ok(())
                } else {
                    Err(meta.error("unknown field attribute: expected `big` or `little`"))
                }
            })?;
        }
    }
    match (&kind, bits) {
        (Kind::Array(_), Some((_, s))) => {
            return Err(syn::Error::new(
                s,
                "a byte array cannot be a bitfield: bitfields are u8, u16, u32, u64, bool or a CEnum",
            ));
        }
        (Kind::Array(_), None) if endian_attr.is_some() => {
            return Err(syn::Error::new(
                endian_attr.unwrap_or_else(Span::call_site),
                "byte arrays have no byte order: remove `big`/`little` from this field",
            ));
        }
        (Kind::Bool, None) => {
            return Err(syn::Error::new(
                f.ty.span(),
                "a `bool` field must be a one-bit bitfield: add #[bits(1)]",
            ));
        }
        (Kind::Bool, Some((n, s))) if n != 1 => {
            return Err(syn::Error::new(
                s,
                "a `bool` bitfield is exactly #[bits(1)]",
            ));
        }
        (Kind::Uint(w), Some((n, s))) if n as usize > w * 8 => {
            return Err(syn::Error::new(
                s,
                format!(
                    "#[bits({n})] does not fit in the field's type ({} bits)",
                    w * 8
                ),
            ));
        }
        _ => {}
    }
    Ok(FieldDef {
        ident,
        ty: f.ty.clone(),
        kind,
        bits,
        endian,
        endian_attr,
        docs: doc_attrs(&f.attrs),
    })
}

/// Running byte offset: a literal while every size so far is a literal, else an expression.
struct Offset {
    lit: usize,
    exprs: Vec<TokenStream>,
}

impl Offset {
    fn tokens(&self) -> TokenStream {
        let lit = self.lit;
        if self.exprs.is_empty() {
            quote!(#lit)
        } else {
            let e = &self.exprs;
            quote!((#lit #(+ #e)*))
        }
    }
    fn add_lit(&mut self, n: usize) {
        self.lit += n;
    }
    fn add_expr(&mut self, e: TokenStream) {
        self.exprs.push(e);
    }
}

/// A bitfield group still being packed: its first field, the fields so far with their widths,
/// the bits so far, and its byte order.
struct OpenGroup {
    first: usize,
    members: Vec<(usize, u32)>,
    total: u32,
    endian: Endian,
}

fn group_items(fields: &[FieldDef], krate: &Path) -> syn::Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut off = Offset {
        lit: 0,
        exprs: Vec::new(),
    };
    let mut open: Option<OpenGroup> = None;
    for (i, f) in fields.iter().enumerate() {
        if let Some((n, span)) = f.bits {
            let OpenGroup {
                first,
                mut members,
                total,
                endian,
            } = open.take().unwrap_or(OpenGroup {
                first: i,
                members: Vec::new(),
                total: 0,
                endian: f.endian,
            });
            if f.endian != endian {
                return Err(syn::Error::new(
                    f.endian_attr.unwrap_or(span),
                    format!(
                        "bitfield `{}` has a different byte order from the group it packs into \
                         (which starts at `{}`)",
                        f.ident, fields[first].ident
                    ),
                ));
            }
            members.push((i, n));
            let total = total.saturating_add(n);
            if total > 64 {
                return Err(syn::Error::new(
                    f.ident.span(),
                    format!(
                        "bitfield group starting at `{}` grows to {total} bits; a group that \
                         ends on a byte boundary may be at most 64 bits",
                        fields[first].ident
                    ),
                ));
            }
            if total % 8 == 0 {
                let bytes = (total / 8) as usize;
                let mut pos = 0u32;
                let members = members
                    .into_iter()
                    .map(|(field, bits)| {
                        let shift = match endian {
                            Endian::Big => total - pos - bits,
                            Endian::Little => pos,
                        };
                        pos += bits;
                        Member { field, shift, bits }
                    })
                    .collect();
                items.push(Item::Group {
                    offset: off.tokens(),
                    bytes,
                    endian,
                    members,
                });
                off.add_lit(bytes);
            } else {
                open = Some(OpenGroup {
                    first,
                    members,
                    total,
                    endian,
                });
            }
            continue;
        }
        if let Some(g) = open.take() {
            return Err(unaligned_group(fields, g.first, i - 1, g.total));
        }
        let offset = off.tokens();
        let size = match &f.kind {
            Kind::Uint(w) => {
                off.add_lit(*w);
                quote!(#w)
            }
            Kind::Array(len) => {
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = len
                {
                    let n: usize = n.base10_parse()?;
                    off.add_lit(n);
                    quote!(#n)
                } else {
                    off.add_expr(quote!((#len)));
                    quote!((#len))
                }
            }
            Kind::Path => {
                let ty = &f.ty;
                let e = quote!(<#ty as #krate::Field>::SIZE);
                off.add_expr(e.clone());
                e
            }
            // Rejected in `parse_field`: a bool is only ever a one-bit bitfield.
            Kind::Bool => quote!(0usize),
        };
        items.push(Item::Plain {
            field: i,
            offset,
            size,
        });
    }
    if let Some(g) = open {
        return Err(unaligned_group(fields, g.first, fields.len() - 1, g.total));
    }
    Ok(items)
}

fn unaligned_group(fields: &[FieldDef], first: usize, last: usize, total: u32) -> syn::Error {
    let missing = 8 - total % 8;
    let which = if first == last {
        format!("bitfield `{}` covers", fields[last].ident)
    } else {
        format!(
            "bitfields `{}` to `{}` cover",
            fields[first].ident, fields[last].ident
        )
    };
    syn::Error::new(
        fields[last].ident.span(),
        format!(
            "{which} {total} bits, which is not a whole number of bytes: a bitfield group \
             must end on a byte boundary ({missing} more bit(s) needed)"
        ),
    )
}

/// Every name a field generates: getter, setter, `_mut` accessor, and its `Span` constant.
fn generated_names(f: &FieldDef) -> Vec<(String, bool)> {
    let b = bare(&f.ident);
    let mut names = vec![(b.clone(), false), (format!("set_{b}"), false)];
    if matches!(f.kind, Kind::Array(_) | Kind::Path) && f.bits.is_none() {
        names.push((format!("{b}_mut"), false));
    }
    names.push((b.to_uppercase(), true));
    names
}

/// Reject fields whose generated items clash with each other or with the derive's own.
fn check_generated_names(fields: &[FieldDef]) -> syn::Result<()> {
    let mut seen: Vec<(String, &Ident)> = Vec::new();
    for f in fields {
        for (name, is_const) in generated_names(f) {
            let reserved = if is_const {
                RESERVED_CONSTS.contains(&name.as_str())
            } else {
                RESERVED.contains(&name.as_str())
            };
            if reserved {
                return Err(syn::Error::new(
                    f.ident.span(),
                    format!(
                        "field `{}` generates `{name}`, a name the derive already uses; rename the field",
                        bare(&f.ident)
                    ),
                ));
            }
            if let Some((_, other)) = seen.iter().find(|(n, _)| *n == name) {
                return Err(syn::Error::new(
                    f.ident.span(),
                    format!(
                        "fields `{}` and `{}` both generate `{name}`; rename one",
                        bare(other),
                        bare(&f.ident)
                    ),
                ));
            }
            seen.push((name, &f.ident));
        }
    }
    Ok(())
}

fn screaming(ident: &Ident) -> Ident {
    let s = ident.to_string();
    let s = s.strip_prefix("r#").unwrap_or(&s).to_uppercase();
    Ident::new(&s, ident.span())
}

fn bare(ident: &Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").unwrap_or(&s).to_string()
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            input.generics.span(),
            "a Cstruct layout cannot be generic: its size and offsets must be fixed",
        ));
    }
    let data = match &input.data {
        Data::Struct(s) => s,
        Data::Enum(e) => {
            return Err(syn::Error::new(
                e.enum_token.span,
                "#[derive(Cstruct)] describes a struct layout; use #[derive(CEnum)] for enums",
            ));
        }
        Data::Union(u) => {
            return Err(syn::Error::new(
                u.union_token.span,
                "#[derive(Cstruct)] does not support unions",
            ));
        }
    };
    let named = match &data.fields {
        Fields::Named(n) => n,
        other => {
            return Err(syn::Error::new(
                other.span(),
                "#[derive(Cstruct)] needs a struct with named fields",
            ));
        }
    };
    let opts = parse_struct_opts(input)?;
    let krate = &opts.krate;
    let mut fields = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for f in &named.named {
        match parse_field(f, opts.endian) {
            Ok(fd) => fields.push(fd),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    if fields.is_empty() {
        return Err(syn::Error::new(
            name.span(),
            "a Cstruct layout needs at least one field",
        ));
    }
    check_generated_names(&fields)?;
    let items = group_items(&fields, krate)?;

    // Length attributes must name an integer field.
    for (what, le) in [
        ("header_len", &opts.header_len),
        ("total_len", &opts.total_len),
    ] {
        if let Some(le) = le {
            match fields.iter().find(|f| f.ident == le.field) {
                Some(f) if matches!(f.kind, Kind::Uint(_)) => {}
                Some(_) => {
                    return Err(syn::Error::new(
                        le.field.span(),
                        format!("`{what}` must name an unsigned integer field (or bitfield)"),
                    ));
                }
                None => {
                    return Err(syn::Error::new(
                        le.field.span(),
                        format!("`{what}` names `{}`, which is not a field", le.field),
                    ));
                }
            }
        }
    }

    let vis = &input.vis;
    let view = opts
        .view
        .clone()
        .unwrap_or_else(|| format_ident!("{}View", name));
    let size_expr = {
        let mut off = Offset {
            lit: 0,
            exprs: Vec::new(),
        };
        for item in &items {
            match item {
                Item::Plain { size, .. } => off.add_expr(size.clone()),
                Item::Group { bytes, .. } => off.add_lit(*bytes),
            }
        }
        fold_size(&off)
    };

    let mut consts = Vec::new();
    let mut field_list = Vec::new();
    let mut getters = Vec::new();
    let mut setters = Vec::new();
    let mut decode_fields = Vec::new();
    let mut encode_fields = Vec::new();
    let mut debug_fields = Vec::new();
    let mut const_checks = Vec::new();

    for item in &items {
        match item {
            Item::Plain {
                field,
                offset,
                size,
            } => {
                let f = &fields[*field];
                let id = &f.ident;
                let c = screaming(id);
                let fname = bare(id);
                let docs = &f.docs;
                let ty = &f.ty;
                let set = format_ident!("set_{}", fname);
                let mutf = format_ident!("{}_mut", fname);
                let little = f.endian == Endian::Little;
                // A nested layout has its own byte order; only enums take the field's.
                let little = match f.kind {
                    Kind::Path => {
                        if let Some(span) = f.endian_attr {
                            const_checks.push(quote_spanned! {span=>
                                const _: () = ::core::assert!(
                                    <#ty as #krate::Field>::BYTE_ORDERED,
                                    "a nested layout keeps its own byte order: remove `big`/`little` from this field",
                                );
                            });
                        }
                        quote!(#little && <#ty as #krate::Field>::BYTE_ORDERED)
                    }
                    Kind::Array(_) => quote!(false),
                    _ => quote!(#little),
                };
                consts.push(quote! {
                    #[doc = ::core::concat!("Where `", #fname, "` lies: byte offset and length.")]
                    pub const #c: #krate::Span = #krate::Span::bytes(#offset, #size, #little);
                });
                field_list.push(quote!((#fname, #name::#c)));
                debug_fields.push(quote!(.field(#fname, &self.#id())));
                let endian = f.endian.tokens(krate);
                match &f.kind {
                    Kind::Uint(w) => {
                        let get = f.endian.get_fn();
                        let setf = f.endian.set_fn();
                        getters.push(quote! {
                            #(#docs)*
                            #[inline]
                            pub fn #id(&self) -> #ty {
                                #krate::bytes::#get::<#w>(self.buffer.as_ref(), #name::#c.offset) as #ty
                            }
                        });
                        setters.push(quote! {
                            #[doc = ::core::concat!("Set the `", #fname, "` field.")]
                            #[inline]
                            pub fn #set(&mut self, value: #ty) {
                                #krate::bytes::#setf::<#w>(self.buffer.as_mut(), #name::#c.offset, value as u64)
                            }
                        });
                        decode_fields.push(quote!(#id: view.#id()));
                        encode_fields.push(quote!(self.#set(value.#id);));
                    }
                    Kind::Array(len) => {
                        getters.push(quote! {
                            #(#docs)*
                            #[inline]
                            pub fn #id(&self) -> &[u8; #len] {
                                #krate::bytes::array::<{ #len }>(self.buffer.as_ref(), #name::#c.offset)
                            }
                        });
                        setters.push(quote! {
                            #[doc = ::core::concat!("Set the `", #fname, "` field.")]
                            #[inline]
                            pub fn #set(&mut self, value: &[u8; #len]) {
                                *#krate::bytes::array_mut::<{ #len }>(self.buffer.as_mut(), #name::#c.offset) = *value;
                            }
                            #[doc = ::core::concat!("Borrow the `", #fname, "` field's bytes mutably.")]
                            #[inline]
                            pub fn #mutf(&mut self) -> &mut [u8; #len] {
                                #krate::bytes::array_mut::<{ #len }>(self.buffer.as_mut(), #name::#c.offset)
                            }
                        });
                        decode_fields.push(quote!(#id: *view.#id()));
                        encode_fields.push(quote!(self.#set(&value.#id);));
                    }
                    Kind::Path => {
                        getters.push(quote! {
                            #(#docs)*
                            #[inline]
                            pub fn #id(&self) -> <#ty as #krate::Field>::Ref<'_> {
                                <#ty as #krate::Field>::get(
                                    #krate::bytes::slice(self.buffer.as_ref(), #name::#c.offset, #name::#c.len),
                                    #endian,
                                )
                            }
                        });
                        setters.push(quote! {
                            #[doc = ::core::concat!("Set the `", #fname, "` field.")]
                            #[inline]
                            pub fn #set(&mut self, value: #ty) {
                                <#ty as #krate::Field>::write(
                                    &value,
                                    #krate::bytes::slice_mut(self.buffer.as_mut(), #name::#c.offset, #name::#c.len),
                                    #endian,
                                )
                            }
                            #[doc = ::core::concat!(
                                "Access the `", #fname, "` field mutably (a nested view, or an enum's raw bytes)."
                            )]
                            #[inline]
                            pub fn #mutf(&mut self) -> <#ty as #krate::Field>::Mut<'_> {
                                <#ty as #krate::Field>::get_mut(
                                    #krate::bytes::slice_mut(self.buffer.as_mut(), #name::#c.offset, #name::#c.len),
                                    #endian,
                                )
                            }
                        });
                        decode_fields.push(quote! {
                            #id: <#ty as #krate::Field>::read(
                                #krate::bytes::slice(view.buffer.as_ref(), #name::#c.offset, #name::#c.len),
                                #endian,
                            )
                        });
                        encode_fields.push(quote! {
                            <#ty as #krate::Field>::write(
                                &value.#id,
                                #krate::bytes::slice_mut(self.buffer.as_mut(), #name::#c.offset, #name::#c.len),
                                #endian,
                            );
                        });
                    }
                    Kind::Bool => {}
                }
            }
            Item::Group {
                offset,
                bytes,
                endian,
                members,
            } => {
                let get = endian.get_fn();
                let setb = endian.set_bits_fn();
                let little = *endian == Endian::Little;
                for m in members {
                    let f = &fields[m.field];
                    let id = &f.ident;
                    let c = screaming(id);
                    let fname = bare(id);
                    let docs = &f.docs;
                    let ty = &f.ty;
                    let set = format_ident!("set_{}", fname);
                    let shift = m.shift;
                    let nbits = m.bits;
                    let mask: u64 = if m.bits == 64 {
                        u64::MAX
                    } else {
                        (1u64 << m.bits) - 1
                    };
                    consts.push(quote! {
                        #[doc = ::core::concat!(
                            "Where the `", #fname, "` bitfield lies: its group's bytes, shift and width."
                        )]
                        pub const #c: #krate::Span = #krate::Span::bits(#offset, #bytes, #shift, #nbits, #little);
                    });
                    field_list.push(quote!((#fname, #name::#c)));
                    debug_fields.push(quote!(.field(#fname, &self.#id())));
                    let extract = if shift == 0 {
                        quote!(#krate::bytes::#get::<#bytes>(self.buffer.as_ref(), #name::#c.offset) & #mask)
                    } else {
                        quote!((#krate::bytes::#get::<#bytes>(self.buffer.as_ref(), #name::#c.offset) >> #shift) & #mask)
                    };
                    let (convert, raw) = match &f.kind {
                        Kind::Uint(_) => (quote!((#extract) as #ty), quote!(value as u64)),
                        Kind::Bool => (quote!((#extract) != 0), quote!(value as u64)),
                        Kind::Path => {
                            let span = f.bits.map(|(_, s)| s).unwrap_or_else(Span::call_site);
                            const_checks.push(quote_spanned! {span=>
                                const _: () = ::core::assert!(
                                    #nbits <= <#ty as #krate::CEnum>::BITS,
                                    "a #[bits(N)] enum field is wider than the enum's repr",
                                );
                            });
                            (
                                quote!(<#ty as #krate::CEnum>::from_bits(#extract)),
                                quote!(<#ty as #krate::CEnum>::to_bits(value)),
                            )
                        }
                        Kind::Array(_) => continue,
                    };
                    getters.push(quote! {
                        #(#docs)*
                        #[inline]
                        pub fn #id(&self) -> #ty {
                            #convert
                        }
                    });
                    setters.push(quote! {
                        #[doc = ::core::concat!(
                            "Set the `", #fname, "` bitfield; bits of `value` beyond its width are dropped."
                        )]
                        #[inline]
                        pub fn #set(&mut self, value: #ty) {
                            #krate::bytes::#setb::<#bytes>(self.buffer.as_mut(), #name::#c.offset, #shift, #mask, #raw)
                        }
                    });
                    decode_fields.push(quote!(#id: view.#id()));
                    encode_fields.push(quote!(self.#set(value.#id);));
                }
            }
        }
    }

    let view_doc = format!(
        "A checked zero-copy view of a [`{name}`] layout over a byte buffer `B` \
         (generated by `#[derive(Cstruct)]`)."
    );
    let decode_doc = format!("Decode every field into a [`{name}`] value.");
    let view_str = view.to_string();

    // Header and total length handling.
    // Lengths saturate instead of overflowing (a `u64` field times N, or any `u64` on a 32-bit
    // target), so an absurd value fails the length check rather than wrapping past it.
    let header_len_body = match &opts.header_len {
        Some(le) => {
            let fid = &le.field;
            let scale = le.scale as usize;
            quote!(#krate::bytes::scaled_len(self.#fid() as u64, #scale))
        }
        None => quote!(#name::SIZE),
    };
    // Where the header ends, or `usize::MAX` (so every range from it is empty) when the header
    // length field says less than the fixed layout.
    let header_end = quote!(#krate::bytes::header_end(#name::SIZE, self.header_len()));
    // With a total length, `header_len <= total_len <= len` already bounds the header, so only
    // the last length is compared with the buffer (one comparison less on every packet).
    let header_len_check = opts.header_len.as_ref().map(|_| {
        let fits = opts
            .total_len
            .is_none()
            .then(|| quote!(#krate::bytes::check_fits(len, self.header_len())?;));
        quote! {
            #krate::bytes::check_header_len(self.header_len(), #name::SIZE)?;
            #fits
        }
    });
    let total_len_check = opts.total_len.as_ref().map(|_| {
        quote! {
            #krate::bytes::check_total_len(self.packet_len(), self.header_len())?;
            #krate::bytes::check_fits(len, self.packet_len())?;
        }
    });
    let packet_len_fn = opts.total_len.as_ref().map(|le| {
        let fid = &le.field;
        let scale = le.scale as usize;
        let body = quote!(#krate::bytes::scaled_len(self.#fid() as u64, #scale));
        let doc = format!(
            "Return the packet length in bytes that the `{fid}` field declares (header and payload)."
        );
        quote! {
            #[doc = #doc]
            #[inline]
            pub fn packet_len(&self) -> usize {
                #body
            }
        }
    });
    // End of the payload: the declared packet length when there is one, else the buffer end.
    let payload_end = if opts.total_len.is_some() {
        quote!(self.packet_len())
    } else {
        quote!(self.buffer.as_ref().len())
    };
    // Without a total length the payload runs to the buffer's end: one bound to check.
    let payload_body = if opts.total_len.is_some() {
        quote!(#krate::bytes::range(self.buffer.as_ref(), #header_end, #payload_end))
    } else {
        quote!(#krate::bytes::tail(self.buffer.as_ref(), #header_end))
    };
    let options_fns = opts.header_len.as_ref().map(|_| {
        quote! {
            /// Return the header bytes past the fixed layout (options), up to the header length
            /// (empty if the header length field no longer fits).
            #[inline]
            pub fn options(&self) -> &[u8] {
                #krate::bytes::range(self.buffer.as_ref(), #name::SIZE, self.header_len())
            }
        }
    });
    let options_mut_fns = opts.header_len.as_ref().map(|_| {
        quote! {
            /// Return the header bytes past the fixed layout (options), mutably.
            #[inline]
            pub fn options_mut(&mut self) -> &mut [u8] {
                let end = self.header_len();
                #krate::bytes::range_mut(self.buffer.as_mut(), #name::SIZE, end)
            }
        }
    });
    // Length tails, when the layout has them; a fixed layout prints its fields only.
    let debug_header = opts.header_len.as_ref().map(|_| {
        quote! {
            .field("header_len", &self.header_len())
            .field("options_len", &self.options().len())
        }
    });
    let debug_packet = opts
        .total_len
        .as_ref()
        .map(|_| quote!(.field("packet_len", &self.packet_len())));
    let debug_payload = (opts.header_len.is_some() || opts.total_len.is_some())
        .then(|| quote!(.field("payload_len", &self.payload().len())));
    let debug_tail = quote!(#debug_header #debug_packet #debug_payload);

    let field_count = field_list.len();
    let size_const_doc = format!("The size in bytes of the fixed `{name}` layout.");

    Ok(quote! {
        #[automatically_derived]
        impl #name {
            #[doc = #size_const_doc]
            pub const SIZE: usize = #size_expr;
            #(#consts)*
            /// Every field by name with where it lies, in declaration order.
            pub const FIELDS: &'static [(&'static str, #krate::Span); #field_count] = &[#(#field_list),*];

            /// Encode this value into its wire bytes.
            pub fn to_bytes(&self) -> [u8; #name::SIZE] {
                let mut view = #view::new_unchecked([0u8; #name::SIZE]);
                view.encode(self);
                view.into_inner()
            }

            /// Decode a value from exactly [`Self::SIZE`] wire bytes.
            pub fn from_bytes(bytes: &[u8; #name::SIZE]) -> Self {
                #view::new_unchecked(bytes.as_slice()).decode()
            }

            /// Copy exactly [`Self::SIZE`] bytes from the start of `source` into an owned view.
            ///
            /// Use this for memory another party may change at any time (a shared ring slot):
            /// the bytes are read once, and the view parses the private copy.
            ///
            /// # Errors
            /// [`Error::OutOfRange`](#krate::Error::OutOfRange) if `source` is shorter than the layout.
            pub fn read_from<__S: #krate::ByteSource + ?::core::marker::Sized>(
                source: &__S,
            ) -> ::core::result::Result<#view<[u8; #name::SIZE]>, #krate::Error> {
                #name::read_from_at(source, 0)
            }

            /// Copy exactly [`Self::SIZE`] bytes from `source` at `offset` into an owned view.
            ///
            /// # Errors
            /// [`Error::OutOfRange`](#krate::Error::OutOfRange) if the range is not inside `source`.
            pub fn read_from_at<__S: #krate::ByteSource + ?::core::marker::Sized>(
                source: &__S,
                offset: usize,
            ) -> ::core::result::Result<#view<[u8; #name::SIZE]>, #krate::Error> {
                let mut bytes = [0u8; #name::SIZE];
                #krate::ByteSource::read_at(source, offset, &mut bytes)?;
                ::core::result::Result::Ok(#view::new_unchecked(bytes))
            }
        }

        #[doc = #view_doc]
        ///
        /// Build it with `new_checked`: after that one length check no accessor can panic.
        #[derive(
            ::core::clone::Clone,
            ::core::marker::Copy,
            ::core::cmp::PartialEq,
            ::core::cmp::Eq,
            ::core::hash::Hash,
        )]
        #vis struct #view<B> {
            buffer: B,
        }

        #[automatically_derived]
        // A field may be called `len`; its getter is not a collection length.
        #[allow(clippy::len_without_is_empty)]
        impl<__B: ::core::convert::AsRef<[u8]>> #view<__B> {
            /// Wrap a buffer without checking its length.
            ///
            /// Accessors panic if the buffer is shorter than the layout; prefer `new_checked`.
            #[inline]
            pub const fn new_unchecked(buffer: __B) -> Self {
                #view { buffer }
            }

            /// Wrap a buffer after checking that every accessor stays inside it.
            ///
            /// # Errors
            /// [`Error::Truncated`](#krate::Error::Truncated) if the buffer is shorter than the
            /// layout (or than the header or packet length its fields declare),
            /// [`Error::BadHeaderLen`](#krate::Error::BadHeaderLen) /
            /// [`Error::BadTotalLen`](#krate::Error::BadTotalLen) if those fields are inconsistent.
            #[inline]
            pub fn new_checked(buffer: __B) -> ::core::result::Result<Self, #krate::Error> {
                let view = #view { buffer };
                view.check_len()?;
                ::core::result::Result::Ok(view)
            }

            /// Check that the buffer holds the layout and every length its fields declare.
            ///
            /// # Errors
            /// As for `new_checked`.
            #[inline]
            pub fn check_len(&self) -> ::core::result::Result<(), #krate::Error> {
                let len = self.buffer.as_ref().len();
                #krate::bytes::check_fits(len, #name::SIZE)?;
                #header_len_check
                #total_len_check
                ::core::result::Result::Ok(())
            }

            /// Return the underlying buffer.
            #[inline]
            pub fn into_inner(self) -> __B {
                self.buffer
            }

            /// Return the whole underlying buffer as bytes.
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                self.buffer.as_ref()
            }

            /// Borrow as a read-only view.
            #[inline]
            pub fn as_view(&self) -> #view<&[u8]> {
                #view { buffer: self.buffer.as_ref() }
            }

            /// Return the header length in bytes (the fixed layout plus any options).
            #[inline]
            pub fn header_len(&self) -> usize {
                #header_len_body
            }

            #packet_len_fn

            /// Return the header bytes (empty if the header length field no longer fits).
            #[inline]
            pub fn header(&self) -> &[u8] {
                #krate::bytes::range(self.buffer.as_ref(), 0, #header_end)
            }

            #options_fns

            /// Return the payload: the bytes after the header, up to the declared packet length
            /// if the layout has one (trailing padding excluded), else to the buffer's end.
            /// Empty if a length field no longer fits the buffer (changed after the check).
            #[inline]
            pub fn payload(&self) -> &[u8] {
                #payload_body
            }

            #[doc = #decode_doc]
            #[inline]
            pub fn decode(&self) -> #name {
                let view = self;
                #name { #(#decode_fields),* }
            }

            /// Return a hexdump of the whole buffer for `Display`.
            #[inline]
            pub fn hexdump(&self) -> #krate::Hexdump<'_> {
                #krate::Hexdump::new(self.buffer.as_ref())
            }

            #(#getters)*
        }

        #[automatically_derived]
        impl<__B: ::core::convert::AsRef<[u8]> + ::core::convert::AsMut<[u8]>> #view<__B> {
            /// Return the whole underlying buffer as mutable bytes.
            #[inline]
            pub fn as_bytes_mut(&mut self) -> &mut [u8] {
                self.buffer.as_mut()
            }

            /// Return the header bytes mutably (see `header`).
            #[inline]
            pub fn header_mut(&mut self) -> &mut [u8] {
                let end = #header_end;
                #krate::bytes::range_mut(self.buffer.as_mut(), 0, end)
            }

            #options_mut_fns

            /// Return the payload mutably (see `payload`).
            #[inline]
            pub fn payload_mut(&mut self) -> &mut [u8] {
                let start = #header_end;
                let end = #payload_end;
                #krate::bytes::range_mut(self.buffer.as_mut(), start, end)
            }

            /// Write every field of `value`.
            #[inline]
            pub fn encode(&mut self, value: &#name) {
                #(#encode_fields)*
            }

            #(#setters)*
        }

        #[automatically_derived]
        impl<__B: #krate::Split> #view<__B> {
            /// Narrow the buffer to the payload, keeping its type (zero-copy: a `&'a [u8]`
            /// stays borrowed for `'a`, a `Bytes` shares its allocation).
            #[inline]
            pub fn into_payload(self) -> __B {
                let start = #header_end;
                let end = #payload_end;
                #krate::Split::split_range(self.buffer, start, end)
            }

            /// Narrow the buffer to the header, keeping its type.
            #[inline]
            pub fn into_header(self) -> __B {
                let end = #header_end;
                #krate::Split::split_range(self.buffer, 0, end)
            }
        }

        #[automatically_derived]
        impl<__B: ::core::convert::AsRef<[u8]>> ::core::fmt::Debug for #view<__B> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let len = self.buffer.as_ref().len();
                if len < #name::SIZE {
                    return f
                        .debug_struct(#view_str)
                        .field("truncated_len", &len)
                        .finish();
                }
                f.debug_struct(#view_str)
                    #(#debug_fields)*
                    #debug_tail
                    .finish()
            }
        }

        #[automatically_derived]
        impl #krate::Field for #name {
            const SIZE: usize = #name::SIZE;
            const BYTE_ORDERED: bool = false;
            type Ref<'a> = #view<&'a [u8]>;
            type Mut<'a> = #view<&'a mut [u8]>;
            #[inline]
            fn get(bytes: &[u8], _endian: #krate::Endian) -> #view<&[u8]> {
                #view::new_unchecked(bytes)
            }
            #[inline]
            fn get_mut(bytes: &mut [u8], _endian: #krate::Endian) -> #view<&mut [u8]> {
                #view::new_unchecked(bytes)
            }
            #[inline]
            fn read(bytes: &[u8], _endian: #krate::Endian) -> Self {
                #view::new_unchecked(bytes).decode()
            }
            #[inline]
            fn write(&self, bytes: &mut [u8], _endian: #krate::Endian) {
                #view::new_unchecked(bytes).encode(self)
            }
        }

        #[automatically_derived]
        impl #krate::Layout for #name {
            type View<__B: ::core::convert::AsRef<[u8]>> = #view<__B>;
            const FIELDS: &'static [(&'static str, #krate::Span)] = #name::FIELDS;
            #[inline]
            fn view<__B: ::core::convert::AsRef<[u8]>>(buffer: __B) -> ::core::result::Result<#view<__B>, #krate::Error> {
                #view::new_checked(buffer)
            }
        }

        #(#const_checks)*
    })
}

fn fold_size(off: &Offset) -> TokenStream {
    // Sizes arrive as expressions; fold integer literals so simple layouts read `20`.
    let mut lit = off.lit;
    let mut rest = Vec::new();
    for e in &off.exprs {
        match syn::parse2::<syn::LitInt>(e.clone()).ok() {
            Some(l) => lit += l.base10_parse::<usize>().unwrap_or(0),
            None => rest.push(e.clone()),
        }
    }
    if rest.is_empty() {
        quote!(#lit)
    } else {
        quote!(#lit #(+ #rest)*)
    }
}
