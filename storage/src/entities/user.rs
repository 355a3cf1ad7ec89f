use sea_orm::entity::prelude::*;

/// A person who signs in. The password is stored only as an argon2id PHC string.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// As the person typed it when the account was made.
    pub username: String,
    /// Lower-cased username; unique, so "Alice" and "alice" are one account.
    #[sea_orm(unique)]
    pub username_key: String,
    pub password_hash: String,
    /// "admin", "helpdesk" or "manager".
    pub role: String,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
    pub password_changed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
