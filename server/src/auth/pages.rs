//! Which capability each page needs. Pages not listed need only a signed-in
//! user (every role may view coverage). Add a line here with every new page
//! that shows or changes something a role may not see or do.

use app::auth::Capability;

/// (path prefix, capability): the longest matching prefix wins.
const PAGE_CAPABILITIES: &[(&str, Capability)] = &[
    ("/subnets/new", Capability::ManageInventory),
    ("/admin/users", Capability::ManageUsers),
    ("/admin/audit", Capability::ViewAudit),
];

/// The capability a signed-in user needs to open the page at `path`.
pub fn required_capability(path: &str) -> Capability {
    PAGE_CAPABILITIES
        .iter()
        .filter(|(prefix, _)| {
            path == *prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, capability)| *capability)
        .unwrap_or(Capability::ViewCoverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_pages_need_their_capability_and_the_rest_view_coverage() {
        assert_eq!(
            required_capability("/subnets/new"),
            Capability::ManageInventory
        );
        assert_eq!(required_capability("/subnets/12"), Capability::ViewCoverage);
        assert_eq!(required_capability("/admin/users"), Capability::ManageUsers);
        assert_eq!(
            required_capability("/admin/users/3"),
            Capability::ManageUsers
        );
        assert_eq!(
            required_capability("/admin/usersx"),
            Capability::ViewCoverage
        );
        assert_eq!(required_capability("/"), Capability::ViewCoverage);
    }
}
