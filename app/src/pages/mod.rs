mod add_subnet;
mod gaps;
mod host;
mod login;
mod not_found;
mod overview;
mod profiles;
mod subnet;

pub use add_subnet::AddSubnet;
pub use host::HostPage;
pub use login::Login;
pub use not_found::NotFound;
pub use overview::Overview;
pub use profiles::Profiles;
pub use subnet::SubnetPage;
