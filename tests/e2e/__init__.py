"""E2E tier: a package, so the package-scoped fixtures of its conftest end with the tier."""
