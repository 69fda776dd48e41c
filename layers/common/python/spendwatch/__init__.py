"""spendwatch shared package: models, config, store and domain code used by every function."""
