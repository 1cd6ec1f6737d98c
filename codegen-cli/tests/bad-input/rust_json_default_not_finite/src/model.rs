use syncwright::Syncable;

#[derive(Syncable)]
pub struct Visit {
    #[syncwright(json, default = [1.5, 1e999, -1e999])]
    pub limits: Vec<f64>,
}
