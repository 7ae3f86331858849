//! Procedural macros behind [`unistack-cstruct`](../unistack_cstruct/index.html).
//!
//! Use them through `unistack_cstruct::{Cstruct, CEnum}`; the crate documentation there
//! describes the attributes and what is generated. This crate only parses the layout and
//! emits code that calls the runtime helpers in `unistack_cstruct::bytes`, so the expansion
//! stays readable (`cargo expand`) and every byte access goes through one checked helper.

mod cenum;
mod layout;

use proc_macro::TokenStream;

/// Derive checked zero-copy views for a struct that describes a wire layout.
///
/// See the `unistack_cstruct` crate documentation for the attributes.
#[proc_macro_derive(Cstruct, attributes(cstruct, bits))]
pub fn derive_cstruct(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    layout::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derive conversions for a `#[repr(u8|u16|u32|u64)]` enum of code points that keeps unknown
/// values in a catch-all variant.
///
/// See the `unistack_cstruct` crate documentation for the attributes.
#[proc_macro_derive(CEnum, attributes(cenum))]
pub fn derive_cenum(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    cenum::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Parse `crate = some::path` from an attribute list entry.
fn parse_crate_path(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<syn::Path> {
    let value = meta.value()?;
    value.parse::<syn::Path>()
}

/// The default path of the runtime crate.
fn default_crate_path() -> syn::Path {
    syn::parse_quote!(::unistack_cstruct)
}

/// Collect the `#[doc]` attributes of an item, to copy onto generated accessors.
fn doc_attrs(attrs: &[syn::Attribute]) -> Vec<syn::Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}
