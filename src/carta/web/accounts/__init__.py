"""Centers (hospitals), memberships with a role, login throttling, and center scoping."""
