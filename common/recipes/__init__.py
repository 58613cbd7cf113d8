"""Training recipes: the catalog, the schema every key is checked against, and resolution with profiles and overrides."""
