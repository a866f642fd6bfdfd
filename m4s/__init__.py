"""M4S: Mobile for Service, a platform for car dealer groups."""
