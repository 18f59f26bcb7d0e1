pub use sea_orm_migration::prelude::*;

mod m20240101_000001_create_widgets;
mod m20240102_000001_widget_name;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20240101_000001_create_widgets::Migration),
            Box::new(m20240102_000001_widget_name::Migration),
        ]
    }
}
