//! `#[derive(CEnum)]`: code-point enums that keep the values they do not name.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Ident};

use crate::{default_crate_path, parse_crate_path};

struct Known {
    ident: Ident,
    value: syn::Expr,
    display: String,
}

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "a CEnum cannot be generic",
        ));
    }
    let data = match &input.data {
        Data::Enum(e) => e,
        _ => {
            return Err(syn::Error::new(
                name.span(),
                "#[derive(CEnum)] is for enums; use #[derive(Cstruct)] for layouts",
            ));
        }
    };

    let mut repr: Option<Ident> = None;
    let mut krate = default_crate_path();
    let mut crate_seen = false;
    for attr in &input.attrs {
        if attr.path().is_ident("repr") {
            attr.parse_nested_meta(|meta| {
                if let Some(id) = meta.path.get_ident() {
                    let s = id.to_string();
                    if matches!(s.as_str(), "u8" | "u16" | "u32" | "u64") {
                        repr = Some(id.clone());
                        return Ok(());
                    }
                }
                Err(meta.error("a CEnum's repr is one of u8, u16, u32, u64"))
            })?;
        } else if attr.path().is_ident("cenum") {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    if crate_seen {
                        return Err(meta.error("`crate` given twice"));
                    }
                    crate_seen = true;
                    krate = parse_crate_path(&meta)?;
                    Ok(())
                } else {
                    Err(meta.error("unknown cenum attribute on the enum: expected `crate = path`"))
                }
            })?;
        }
    }
    let repr = repr.ok_or_else(|| {
        syn::Error::new(
            name.span(),
            "a CEnum needs #[repr(u8)], #[repr(u16)], #[repr(u32)] or #[repr(u64)]: the repr is its width on the wire",
        )
    })?;
    let width: usize = match repr.to_string().as_str() {
        "u8" => 1,
        "u16" => 2,
        "u32" => 4,
        _ => 8,
    };
    let bits = (width * 8) as u32;

    let mut known = Vec::new();
    let mut catch_all: Option<Ident> = None;
    for v in &data.variants {
        let name = v.ident.to_string();
        let mut display = name.strip_prefix("r#").unwrap_or(&name).to_string();
        let mut display_given: Option<proc_macro2::Span> = None;
        for attr in &v.attrs {
            if attr.path().is_ident("cenum") {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("display") {
                        if display_given.is_some() {
                            return Err(meta.error("`display` given twice"));
                        }
                        display_given = Some(meta.path.span());
                        let s: syn::LitStr = meta.value()?.parse()?;
                        display = s.value();
                        Ok(())
                    } else {
                        Err(meta.error(
                            "unknown cenum attribute on a variant: expected `display = \"...\"`",
                        ))
                    }
                })?;
            }
        }
        match &v.fields {
            Fields::Unit => {
                let value = match &v.discriminant {
                    Some((_, e)) => e.clone(),
                    None => {
                        return Err(syn::Error::new(
                            v.ident.span(),
                            "every named code point needs an explicit value, e.g. `Tcp = 6`",
                        ));
                    }
                };
                known.push(Known {
                    ident: v.ident.clone(),
                    value,
                    display,
                });
            }
            Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                let ty = &u.unnamed[0].ty;
                let ok = matches!(ty, syn::Type::Path(p) if p.path.is_ident(&repr));
                if !ok {
                    return Err(syn::Error::new(
                        ty.span(),
                        format!(
                            "the catch-all variant must hold the repr type: `{}({repr})`",
                            v.ident
                        ),
                    ));
                }
                if catch_all.is_some() {
                    return Err(syn::Error::new(
                        v.ident.span(),
                        "a CEnum has exactly one catch-all variant",
                    ));
                }
                if let Some(span) = display_given {
                    return Err(syn::Error::new(
                        span,
                        "the catch-all variant prints its value; `display` applies to named code points",
                    ));
                }
                catch_all = Some(v.ident.clone());
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "CEnum variants are unit variants with a value, plus one catch-all `Unknown(repr)`",
                ));
            }
        }
    }
    let unknown = catch_all.ok_or_else(|| {
        syn::Error::new(
            name.span(),
            format!(
                "a CEnum needs a catch-all variant such as `Unknown({repr})` to keep values it does not name"
            ),
        )
    })?;

    // Numbered, so variants differing only in case (or raw identifiers) cannot collide.
    let consts: Vec<Ident> = (0..known.len())
        .map(|i| format_ident!("__CENUM_VALUE_{}", i))
        .collect();
    let idents: Vec<&Ident> = known.iter().map(|k| &k.ident).collect();
    let values: Vec<&syn::Expr> = known.iter().map(|k| &k.value).collect();
    let displays: Vec<&String> = known.iter().map(|k| &k.display).collect();
    let hex_width = width * 2 + 2;

    Ok(quote! {
        #[automatically_derived]
        impl #name {
            #(
                #[doc(hidden)]
                const #consts: #repr = #values;
            )*

            /// Every named code point, in declaration order.
            pub const KNOWN: &'static [#name] = &[#(#name::#idents),*];

            /// One past the largest named value below 256: raw values under it are converted
            /// by a table lookup (small enough to inline where a `match` over many code points
            /// is not); the others go through the `match`.
            #[doc(hidden)]
            const __CENUM_TABLE_LEN: usize = {
                let mut n = 0u64;
                #(
                    if (#name::#consts as u64) < 256 && (#name::#consts as u64) >= n {
                        n = #name::#consts as u64 + 1;
                    }
                )*
                n as usize
            };

            #[doc(hidden)]
            const __CENUM_TABLE: [#name; #name::__CENUM_TABLE_LEN] = {
                let mut table = [#name::#unknown(0); #name::__CENUM_TABLE_LEN];
                let mut i = 0;
                while i < #name::__CENUM_TABLE_LEN {
                    table[i] = #name::__cenum_match(i as #repr);
                    i += 1;
                }
                table
            };

            #[doc(hidden)]
            const fn __cenum_match(raw: #repr) -> Self {
                match raw {
                    #(#name::#consts => #name::#idents,)*
                    other => #name::#unknown(other),
                }
            }

            /// Convert a raw value; values without a name are kept in the catch-all variant.
            #[inline]
            pub const fn from_raw(raw: #repr) -> Self {
                if (raw as u64) < #name::__CENUM_TABLE_LEN as u64 {
                    #name::__CENUM_TABLE[raw as usize]
                } else {
                    #name::__cenum_match(raw)
                }
            }

            /// Return the raw value.
            #[inline]
            pub const fn to_raw(self) -> #repr {
                match self {
                    #(#name::#idents => #name::#consts,)*
                    #name::#unknown(other) => other,
                }
            }

            /// Whether this value is a named code point (the catch-all holding a named value,
            /// which `from_raw` never produces, counts as named too).
            #[inline]
            pub const fn is_known(self) -> bool {
                !::core::matches!(#name::from_raw(self.to_raw()), #name::#unknown(_))
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#repr> for #name {
            #[inline]
            fn from(raw: #repr) -> Self {
                #name::from_raw(raw)
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#name> for #repr {
            #[inline]
            fn from(value: #name) -> Self {
                value.to_raw()
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match #name::from_raw(self.to_raw()) {
                    #(#name::#idents => f.write_str(#displays),)*
                    #name::#unknown(other) => ::core::write!(f, "unknown ({:#0w$x})", other, w = #hex_width),
                }
            }
        }

        #[automatically_derived]
        impl #krate::CEnum for #name {
            type Raw = #repr;
            const BITS: u32 = #bits;
            const KNOWN: &'static [Self] = #name::KNOWN;
            #[inline]
            fn from_raw(raw: #repr) -> Self {
                #name::from_raw(raw)
            }
            #[inline]
            fn to_raw(self) -> #repr {
                #name::to_raw(self)
            }
            #[inline]
            fn from_bits(bits: u64) -> Self {
                #name::from_raw(bits as #repr)
            }
            #[inline]
            fn to_bits(self) -> u64 {
                #name::to_raw(self) as u64
            }
        }

        #[automatically_derived]
        impl #krate::Field for #name {
            const SIZE: usize = #width;
            const BYTE_ORDERED: bool = true;
            type Ref<'a> = #name;
            type Mut<'a> = &'a mut [u8];
            #[inline]
            fn get(bytes: &[u8], endian: #krate::Endian) -> Self {
                <#name as #krate::Field>::read(bytes, endian)
            }
            #[inline]
            fn get_mut(bytes: &mut [u8], _endian: #krate::Endian) -> &mut [u8] {
                bytes
            }
            #[inline]
            fn read(bytes: &[u8], endian: #krate::Endian) -> Self {
                #name::from_raw(#krate::bytes::get::<#width>(bytes, 0, endian) as #repr)
            }
            #[inline]
            fn write(&self, bytes: &mut [u8], endian: #krate::Endian) {
                #krate::bytes::set::<#width>(bytes, 0, endian, #name::to_raw(*self) as u64)
            }
        }
    })
}
