mod account;
mod add_subnet;
mod admin;
mod login;
mod not_found;
mod overview;
mod profiles;
mod subnet;

pub use account::Account;
pub use add_subnet::AddSubnet;
pub use admin::{Audit, Users};
pub use login::Login;
pub use not_found::NotFound;
pub use overview::Overview;
pub use profiles::Profiles;
pub use subnet::SubnetPage;
