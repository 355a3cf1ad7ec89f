mod add_subnet;
mod admin;
mod login;
mod not_found;
mod overview;
mod profiles;
mod scans;
mod subnet;

pub use add_subnet::AddSubnet;
pub use admin::{AdminExclusions, AdminProfiles, AdminSchedules, AdminSubnets};
pub use login::Login;
pub use not_found::NotFound;
pub use overview::Overview;
pub use profiles::Profiles;
pub use scans::Scans;
pub use subnet::SubnetPage;
