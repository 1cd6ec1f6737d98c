use std::collections::HashMap;

use syncwright::Syncable;

#[derive(Syncable)]
struct Task {
    title: String,
    tags: HashMap<String, i64>,
}

// The fallback impl keeps uses of the type free of follow-on errors.
fn entity_of<T: Syncable>() -> &'static syncwright::EntityDescriptor {
    T::ENTITY
}

fn main() {
    let _ = entity_of::<Task>();
}
