"""TSE configuration service."""
